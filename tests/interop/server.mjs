#!/usr/bin/env node
// A strict FAPI 2.0 authorization server for consent-explorer interop tests, on panva's oidc-provider.
//
//   node server.mjs --jwks PATH [--port N] [--client-id ID] [--redirect-uri URI ...] [--host 127.0.0.1]
//                   [--ignore-stdin] [--auto-approve] [--defaults] [--dpop] [--dpop-nonce]
//
// --auto-approve answers the login and consent interactions itself (a fixed test account,
// everything asked granted), so a test reaches the redirect_uri by following redirects alone.
// --dpop makes the client's access tokens DPoP-bound (dpop_bound_access_tokens, JWT access
// tokens carrying cnf.jkt); --dpop-nonce also requires the server's nonce in every proof.
//
// --defaults leaves out what this file tightens for FAPI 2.0 (the FAPI profile, PKCE required,
// the PS256/ES256/EdDSA-only algorithms, the client's pinned algorithms, signed request objects
// required): oidc-provider as a plain OpenID server, for the probe to find lenient rows.
//
// stdout carries exactly one JSON line once the server listens:
//   {"issuer": ..., "par_endpoint": ..., "authorization_endpoint": ..., "token_endpoint": ..., "port": N}
// Everything else (oidc-provider notices, error details) goes to stderr. The process exits on
// SIGTERM, SIGINT, or when stdin closes (unless --ignore-stdin), so a test that spawns it with a
// piped stdin and drops the handle cleans it up.

import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { generateKeyPairSync, randomBytes } from 'node:crypto';

// oidc-provider prints its notices with console.info, i.e. to stdout. stdout is reserved for the
// one JSON line, so send console.log/console.info to stderr before the library is loaded (hence the
// dynamic import below: static imports would run before this line).
const toStderr = (...args) => console.error(...args);
console.log = toStderr;
console.info = toStderr;
console.debug = toStderr;
const stdoutLine = (obj) => process.stdout.write(`${JSON.stringify(obj)}\n`);

const MY_TYPE = 'urn:openfinance-ml:account-access-consent:v1.2';
const UAE_TYPE = 'urn:openfinanceuae:account-access-consent:v2.1';
const RESOURCE = 'https://api.example/';
const RESOURCE_SCOPE = 'accounts profile';

// ---------------------------------------------------------------------------------------------
// Arguments.

function usage(message) {
  if (message) process.stderr.write(`server.mjs: ${message}\n`);
  process.stderr.write(
    'usage: node server.mjs --jwks PATH [--port N] [--host 127.0.0.1] [--client-id ID] [--redirect-uri URI]... [--ignore-stdin] [--auto-approve] [--defaults]\n',
  );
  process.exit(2);
}

function parseArgs(argv) {
  const opts = {
    port: 0,
    host: '127.0.0.1',
    clientId: 'consent-explorer-demo',
    redirectUris: [],
    jwks: undefined,
    watchStdin: true,
    autoApprove: false,
    defaults: false,
    dpop: false,
    dpopNonce: false,
  };
  for (let i = 0; i < argv.length; i += 1) {
    let arg = argv[i];
    let value;
    const eq = arg.indexOf('=');
    if (arg.startsWith('--') && eq !== -1) {
      value = arg.slice(eq + 1);
      arg = arg.slice(0, eq);
    }
    const next = () => {
      if (value !== undefined) return value;
      i += 1;
      if (i >= argv.length) usage(`${arg} needs a value`);
      return argv[i];
    };
    switch (arg) {
      case '--port': {
        const n = Number(next());
        if (!Number.isInteger(n) || n < 0 || n > 65535) usage('--port must be an integer 0..65535');
        opts.port = n;
        break;
      }
      case '--host': opts.host = next(); break;
      case '--client-id': opts.clientId = next(); break;
      case '--redirect-uri': opts.redirectUris.push(next()); break;
      case '--jwks': opts.jwks = next(); break;
      case '--ignore-stdin': opts.watchStdin = false; break;
      case '--auto-approve': opts.autoApprove = true; break;
      case '--defaults': opts.defaults = true; break;
      case '--dpop': opts.dpop = true; break;
      case '--dpop-nonce': opts.dpop = true; opts.dpopNonce = true; break;
      case '-h':
      case '--help': usage(); break;
      default: usage(`unknown argument ${arg}`);
    }
  }
  if (!opts.jwks) usage('--jwks PATH is required (the client\'s public JWK Set)');
  if (!opts.redirectUris.length) opts.redirectUris.push('http://127.0.0.1:8080/callback');
  return opts;
}

const opts = parseArgs(process.argv.slice(2));

// ---------------------------------------------------------------------------------------------
// Lifetime: until SIGTERM/SIGINT or stdin closes. Installed before the ready line is printed, so
// a parent that signals as soon as it has read the line never hits the default (kill) action.

let httpServer;
let stopping = false;
function stop(reason) {
  if (stopping) return;
  stopping = true;
  process.stderr.write(`server.mjs: stopping (${reason})\n`);
  if (!httpServer?.listening) process.exit(0);
  httpServer.close(() => process.exit(0));
  httpServer.closeAllConnections?.();
  setTimeout(() => process.exit(0), 1000).unref();
}
process.on('SIGTERM', () => stop('SIGTERM'));
process.on('SIGINT', () => stop('SIGINT'));
if (opts.watchStdin) {
  // A shell's `cmd &` gives stdin /dev/null, which ends at once: use --ignore-stdin there.
  process.stdin.on('end', () => stop('stdin closed'));
  process.stdin.on('close', () => stop('stdin closed'));
  process.stdin.on('error', () => stop('stdin error'));
  process.stdin.resume();
}

let clientJwks;
try {
  clientJwks = JSON.parse(readFileSync(opts.jwks, 'utf8'));
} catch (err) {
  usage(`cannot read the JWK Set at ${opts.jwks}: ${err.message}`);
}
if (!Array.isArray(clientJwks?.keys) || !clientJwks.keys.length) usage(`${opts.jwks} is not a JWK Set with keys`);
for (const k of clientJwks.keys) {
  if (k.d || k.p || k.q || k.dp || k.dq || k.qi || k.k) usage(`${opts.jwks} holds private key material; give the public JWK Set`);
}

const { default: Provider, errors } = await import('oidc-provider');

// ---------------------------------------------------------------------------------------------
// Rich authorization request types. Each validate() throws InvalidAuthorizationDetails, which
// the PAR endpoint answers as 400 {"error":"invalid_authorization_details", ...}. Types not
// listed here are refused by oidc-provider itself with the same error.

const bad = (msg) => { throw new errors.InvalidAuthorizationDetails(msg); };
const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);
const nonEmptyString = (v) => typeof v === 'string' && v.length > 0;
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function futureDateTime(value, label, maxAheadMs) {
  if (typeof value !== 'string' || !RFC3339.test(value) || Number.isNaN(Date.parse(value))) {
    bad(`${label} must be an RFC 3339 date-time`);
  }
  const t = Date.parse(value);
  if (t <= Date.now()) bad(`${label} must be in the future`);
  if (maxAheadMs && t > Date.now() + maxAheadMs) bad(`${label} is too far in the future`);
}

function onlyKeys(obj, allowed, label) {
  for (const key of Object.keys(obj)) {
    if (!allowed.includes(key)) bad(`${label} has an unknown member '${key}'`);
  }
}

function countOfType(ctx, type) {
  try {
    const details = JSON.parse(ctx.oidc.params.authorization_details);
    return Array.isArray(details) ? details.filter((d) => d?.type === type).length : 0;
  } catch {
    return 0;
  }
}

// Open Finance Malaysia, account access consent v1.2.
const MY_PERMISSIONS = ['read_accounts', 'read_balances', 'read_transactions'];
const MY_PURPOSES = ['pfm', 'credit_underwriting'];
function validateMy(ctx, detail) {
  onlyKeys(detail, ['type', 'consent'], 'authorization_details item');
  const c = detail.consent;
  if (!isObject(c)) bad('consent must be an object');
  onlyKeys(c, ['dc_id', 'dp_id', 'consent_type', 'consent_purpose', 'permissions', 'expiration_datetime'], 'consent');
  if (!nonEmptyString(c.dc_id)) bad('consent.dc_id is required (a non-empty string)');
  if (c.dp_id !== undefined && !nonEmptyString(c.dp_id)) bad('consent.dp_id must be a non-empty string when present');
  if (c.consent_type !== MY_TYPE) bad(`consent.consent_type must be '${MY_TYPE}'`);
  if (!MY_PURPOSES.includes(c.consent_purpose)) bad(`consent.consent_purpose must be one of ${MY_PURPOSES.join(', ')}`);
  if (!Array.isArray(c.permissions) || !c.permissions.length) bad('consent.permissions must be a non-empty array');
  for (const p of c.permissions) {
    if (!MY_PERMISSIONS.includes(p)) bad(`consent.permissions has an unknown value '${p}'`);
  }
  if (new Set(c.permissions).size !== c.permissions.length) bad('consent.permissions has duplicates');
  futureDateTime(c.expiration_datetime, 'consent.expiration_datetime');
}

// UAE Open Finance (Nebras), account access consent v2.1.
const UAE_PERMISSIONS = [
  'ReadAccountsBasic', 'ReadAccountsDetail', 'ReadBalances', 'ReadBeneficiariesBasic',
  'ReadBeneficiariesDetail', 'ReadFXTransactionsBasic', 'ReadFXTransactionsDetail',
  'ReadFXRemittanceCharges', 'ReadTransactionsBasic', 'ReadTransactionsDetail', 'ReadProduct',
  'ReadScheduledPaymentsBasic', 'ReadScheduledPaymentsDetail', 'ReadDirectDebits',
  'ReadStandingOrdersBasic', 'ReadStandingOrdersDetail', 'ReadStatements', 'ReadPartyUser',
  'ReadPartyUserIdentity', 'ReadParty', 'ReadProductFinanceRates',
];
const UAE_USER_TYPES = ['Retail', 'SME', 'Corporate'];
const UAE_PURPOSES = [
  'AccountAggregation', 'RiskAssessment', 'TaxFiling', 'Onboarding', 'Verification',
  'QuoteComparison', 'BudgetingAnalysis', 'FinancialAdvice', 'AuditReconciliation',
];
const UAE_ACCOUNT_TYPES = ['Retail', 'SME', 'Corporate'];
const UAE_ACCOUNT_SUB_TYPES = ['CurrentAccount', 'Savings', 'CreditCard', 'Mortgage', 'Finance'];
const ONE_YEAR_MS = 366 * 24 * 3600 * 1000;
function validateUae(ctx, detail) {
  if (countOfType(ctx, UAE_TYPE) > 1) bad(`at most one '${UAE_TYPE}' item is allowed`);
  onlyKeys(detail, ['type', 'consent', 'subscription'], 'authorization_details item');
  const c = detail.consent;
  if (!isObject(c)) bad('consent must be an object');
  onlyKeys(c, [
    'ConsentId', 'BaseConsentId', 'Permissions', 'ExpirationDateTime', 'OpenFinanceBilling',
    'FromDate', 'ToDate', 'AccountType', 'AccountSubType', 'OnBehalfOf',
  ], 'consent');
  for (const key of ['ConsentId', 'BaseConsentId']) {
    if (c[key] === undefined && key === 'BaseConsentId') continue;
    if (!nonEmptyString(c[key]) || c[key].length > 128) bad(`consent.${key} must be a string of 1 to 128 characters`);
    if (!UUID.test(c[key])) bad(`consent.${key} must be a UUID`);
  }
  if (!Array.isArray(c.Permissions) || !c.Permissions.length) bad('consent.Permissions must be a non-empty array');
  for (const p of c.Permissions) {
    if (!UAE_PERMISSIONS.includes(p)) bad(`consent.Permissions has an unknown value '${p}'`);
  }
  futureDateTime(c.ExpirationDateTime, 'consent.ExpirationDateTime', ONE_YEAR_MS);
  const billing = c.OpenFinanceBilling;
  if (!isObject(billing)) bad('consent.OpenFinanceBilling is required (an object)');
  onlyKeys(billing, ['UserType', 'Purpose'], 'consent.OpenFinanceBilling');
  if (!UAE_USER_TYPES.includes(billing.UserType)) bad(`consent.OpenFinanceBilling.UserType must be one of ${UAE_USER_TYPES.join(', ')}`);
  if (!UAE_PURPOSES.includes(billing.Purpose)) bad(`consent.OpenFinanceBilling.Purpose must be one of ${UAE_PURPOSES.join(', ')}`);
  for (const key of ['FromDate', 'ToDate']) {
    if (c[key] !== undefined && (typeof c[key] !== 'string' || !(DATE.test(c[key]) || RFC3339.test(c[key])))) {
      bad(`consent.${key} must be a date`);
    }
  }
  if (c.FromDate && c.ToDate && Date.parse(c.FromDate) > Date.parse(c.ToDate)) bad('consent.FromDate is after consent.ToDate');
  for (const [key, values] of [['AccountType', UAE_ACCOUNT_TYPES], ['AccountSubType', UAE_ACCOUNT_SUB_TYPES]]) {
    if (c[key] === undefined) continue;
    if (!Array.isArray(c[key]) || !c[key].length) bad(`consent.${key} must be a non-empty array`);
    for (const v of c[key]) if (!values.includes(v)) bad(`consent.${key} has an unknown value '${v}'`);
  }
  if (c.OnBehalfOf !== undefined) {
    if (!isObject(c.OnBehalfOf)) bad('consent.OnBehalfOf must be an object');
    onlyKeys(c.OnBehalfOf, ['TradingName', 'LegalName', 'IdentifierType', 'Identifier'], 'consent.OnBehalfOf');
    for (const [k, v] of Object.entries(c.OnBehalfOf)) {
      if (!nonEmptyString(v)) bad(`consent.OnBehalfOf.${k} must be a non-empty string`);
    }
    if (c.OnBehalfOf.IdentifierType !== undefined && c.OnBehalfOf.IdentifierType !== 'Other') {
      bad("consent.OnBehalfOf.IdentifierType must be 'Other'");
    }
  }
  if (detail.subscription !== undefined) {
    const s = detail.subscription;
    if (!isObject(s)) bad('subscription must be an object');
    onlyKeys(s, ['Webhook'], 'subscription');
    if (!isObject(s.Webhook)) bad('subscription.Webhook must be an object');
    onlyKeys(s.Webhook, ['Url', 'IsActive'], 'subscription.Webhook');
    if (!nonEmptyString(s.Webhook.Url) || !URL.canParse(s.Webhook.Url)) bad('subscription.Webhook.Url must be a URL');
    if (typeof s.Webhook.IsActive !== 'boolean') bad('subscription.Webhook.IsActive must be a boolean');
  }
}

// ---------------------------------------------------------------------------------------------
// Provider.

const ACCOUNT_CLAIMS = {
  name: 'Demo User',
  email: 'demo.user@example.com',
  email_verified: true,
  id_type: 'MyKad',
  hashed_id_number: 'f2ca1bb6c7e907d06dafe4687e579fce76b37e4e93b7605022da52e6ccc26fd2',
};

// The server's own signing key (ID tokens): generated per run.
const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const serverJwk = { ...privateKey.export({ format: 'jwk' }), kid: `interop-${randomBytes(4).toString('hex')}`, use: 'sig' };

httpServer = createServer();
try {
  await new Promise((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(opts.port, opts.host, resolve);
  });
} catch (err) {
  process.stderr.write(`server.mjs: cannot listen on ${opts.host}:${opts.port}: ${err.message}\n`);
  process.exit(1);
}
const { port } = httpServer.address();
const hostForUrl = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
const issuer = `http://${hostForUrl}:${port}`;

const ROUTES = { authorization: '/auth', pushed_authorization_request: '/request', token: '/token' };

const configuration = {
  routes: ROUTES,
  clients: [{
    client_id: opts.clientId,
    token_endpoint_auth_method: 'private_key_jwt',
    token_endpoint_auth_signing_alg: 'PS256',
    request_object_signing_alg: 'PS256',
    id_token_signed_response_alg: 'PS256',
    redirect_uris: opts.redirectUris,
    jwks: clientJwks,
    grant_types: ['authorization_code'],
    response_types: ['code'],
    scope: 'openid accounts profile',
    authorization_details_types: [MY_TYPE, UAE_TYPE],
    ...(opts.dpop ? { dpop_bound_access_tokens: true } : {}),
  }],
  jwks: { keys: [serverJwk] },
  cookies: { keys: [randomBytes(32).toString('base64url')] },
  clientAuthMethods: ['private_key_jwt'],
  responseTypes: ['code'],
  // FAPI 2.0 Security Profile 5.4: PS256, ES256 or EdDSA only.
  enabledJWA: {
    clientAuthSigningAlgValues: ['PS256', 'ES256', 'EdDSA'],
    requestObjectSigningAlgValues: ['PS256', 'ES256', 'EdDSA'],
    idTokenSigningAlgValues: ['PS256', 'ES256', 'EdDSA'],
    authorizationSigningAlgValues: ['PS256', 'ES256', 'EdDSA'],
    dPoPSigningAlgValues: ['PS256', 'ES256', 'EdDSA'],
  },
  scopes: ['openid', 'accounts', 'profile'],
  claims: {
    openid: ['sub'],
    profile: ['name', 'email', 'email_verified', 'id_type', 'hashed_id_number'],
  },
  pkce: { required: () => true },
  // FAPI 2.0 requires redirect_uri at PAR; oidc-provider enforces that under profile '2.0' anyway.
  allowOmittingSingleRegisteredRedirectUri: false,
  async findAccount(_ctx, sub) {
    return { accountId: sub, async claims() { return { sub, ...ACCOUNT_CLAIMS }; } };
  },
  features: {
    fapi: { enabled: true, profile: '2.0' },
    dPoP: {
      enabled: true,
      nonceSecret: randomBytes(32),
      requireNonce: () => opts.dpopNonce,
    },
    pushedAuthorizationRequests: { enabled: true, requirePushedAuthorizationRequests: true },
    requestObjects: { enabled: true, requireSignedRequestObject: true },
    claimsParameter: { enabled: true },
    // The dev pages would answer /interaction/:uid before the auto-approver could.
    devInteractions: { enabled: !opts.autoApprove },
    richAuthorizationRequests: {
      enabled: true,
      types: {
        [MY_TYPE]: { validate: validateMy },
        [UAE_TYPE]: { validate: validateUae },
      },
      // The code carries what the user approved (the Grant), the access token what its code
      // carried: the token response then echoes the consent as the Open Finance servers do.
      authorizationDetailsForGrantSource: (ctx) => ctx.oidc.grant?.rar,
      authorizationDetailsForAccessToken: (_ctx, _token, source) => source?.rar,
      authorizationDetailsForIntrospection: (_ctx, token) => token.rar,
    },
    // oidc-provider refuses every RAR request ("resource indicator must be provided or defaulted
    // to ...") unless a resource is given or defaulted; consent-explorer sends none.
    resourceIndicators: {
      enabled: true,
      defaultResource: () => RESOURCE,
      useGrantedResource: () => true,
      getResourceServerInfo(_ctx, resourceIndicator) {
        if (resourceIndicator !== RESOURCE) throw new errors.InvalidTarget();
        if (opts.dpop) {
          return { scope: RESOURCE_SCOPE, audience: RESOURCE, accessTokenFormat: 'jwt', jwt: { sign: { alg: 'PS256' } } };
        }
        return { scope: RESOURCE_SCOPE, audience: RESOURCE, accessTokenFormat: 'opaque' };
      },
    },
  },
};

if (opts.defaults) {
  delete configuration.features.fapi;
  delete configuration.pkce;
  delete configuration.enabledJWA;
  delete configuration.clients[0].token_endpoint_auth_signing_alg;
  delete configuration.clients[0].request_object_signing_alg;
  configuration.features.requestObjects.requireSignedRequestObject = false;
}

let provider;
try {
  provider = new Provider(issuer, configuration);
} catch (err) {
  process.stderr.write(`server.mjs: oidc-provider refused the configuration: ${err.stack || err}\n`);
  process.exit(1);
}

// Log every error the provider reports, with the hidden error_detail, to stderr.
const originalEmit = provider.emit.bind(provider);
provider.emit = (event, ...args) => {
  if (event === 'server_error' || event.endsWith('.error')) {
    const err = args.find((a) => a instanceof Error);
    if (err) {
      const line = {
        event,
        status: err.statusCode ?? err.status ?? 500,
        error: err.error ?? err.message,
        error_description: err.error_description,
        error_detail: err.error_detail ?? err.cause?.message,
      };
      if (event === 'server_error') line.stack = err.stack;
      process.stderr.write(`oidc-provider error ${JSON.stringify(line)}\n`);
    }
  }
  return originalEmit(event, ...args);
};

// ---------------------------------------------------------------------------------------------
// Auto-approval (--auto-approve): what a user would do on the login and consent pages. Each
// prompt is its own interaction: login first, then (back at /auth/:uid) consent.

const TEST_ACCOUNT = 'interop-user';
const INTERACTION_PATH = /^\/interaction\/[A-Za-z0-9_-]+$/;

async function consentToEverythingAsked(details) {
  const { prompt, params, session, grantId } = details;
  const grant = grantId
    ? await provider.Grant.find(grantId)
    : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
  const missing = prompt.details;
  if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
  if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
  for (const [resource, scopes] of Object.entries(missing.missingResourceScopes ?? {})) {
    grant.addResourceScope(resource, scopes.join(' '));
  }
  for (const detail of missing.rar ?? []) grant.addRar(detail);
  return { consent: { grantId: await grant.save() } };
}

async function autoApprove(req, res) {
  const details = await provider.interactionDetails(req, res);
  let result;
  switch (details.prompt.name) {
    case 'login': result = { login: { accountId: TEST_ACCOUNT } }; break;
    case 'consent': result = await consentToEverythingAsked(details); break;
    default: throw new Error(`no automatic answer to the '${details.prompt.name}' prompt`);
  }
  await provider.interactionFinished(req, res, result, { mergeWithLastSubmission: true });
}

const providerCallback = provider.callback();
httpServer.on('request', (req, res) => {
  const path = new URL(req.url, issuer).pathname;
  if (!opts.autoApprove || req.method !== 'GET' || !INTERACTION_PATH.test(path)) {
    providerCallback(req, res);
    return;
  }
  autoApprove(req, res).catch((err) => {
    process.stderr.write(`server.mjs: auto-approval failed: ${err.stack || err}\n`);
    if (res.headersSent) return;
    res.writeHead(500, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: 'server_error', error_description: 'auto-approval failed' }));
  });
});

stdoutLine({
  issuer,
  par_endpoint: `${issuer}${ROUTES.pushed_authorization_request}`,
  authorization_endpoint: `${issuer}${ROUTES.authorization}`,
  token_endpoint: `${issuer}${ROUTES.token}`,
  port,
});

