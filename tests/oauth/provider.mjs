// A real OpenID provider for the hub's OAuth tests (oidc-provider, in memory).
// Started by the Rust tests on 127.0.0.1 with a free port; prints "LISTENING <port>".
// Login and consent complete without a form (the user is always "alice"), so tests
// drive the whole authorization-code flow over plain HTTP. Test-only endpoints:
//   GET  /test/counts      token requests by grant type (to prove single-flight refresh)
//   POST /test/deny-next   the next authorization is denied by the "user"
// Environment: REDIRECT_URI (the hub's callback), ACCESS_TTL (seconds, default 3600).
import http from 'node:http';
import Provider from 'oidc-provider';

const redirectUri = process.env.REDIRECT_URI;
if (!redirectUri) {
  console.error('REDIRECT_URI is required');
  process.exit(2);
}
const accessTtl = Number(process.env.ACCESS_TTL || '3600');
const counts = {};
let denyNext = false;

const server = http.createServer();
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const { port } = server.address();
const issuer = `http://127.0.0.1:${port}`;

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: 'switchboard',
      client_secret: 'switchboard-test-secret',
      redirect_uris: [redirectUri],
      grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
      response_types: ['code'],
      scope: 'openid profile api:read mcp:tools',
    },
    {
      client_id: 'mcp-client',
      client_secret: 'mcp-client-secret',
      redirect_uris: [],
      grant_types: ['client_credentials'],
      response_types: [],
      scope: 'mcp:tools api:read',
    },
  ],
  cookies: { keys: ['switchboard-test-cookie-key'] },
  pkce: { required: () => true, methods: ['S256'] },
  scopes: ['openid', 'profile', 'api:read', 'mcp:tools'],
  features: {
    devInteractions: { enabled: false },
    revocation: { enabled: true },
    registration: { enabled: true },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: (ctx, client, oneOf) => (oneOf && oneOf.length ? oneOf[0] : undefined),
      useGrantedResource: () => true,
      getResourceServerInfo: (ctx, resourceIndicator) => ({
        scope: 'api:read mcp:tools',
        audience: resourceIndicator,
        accessTokenTTL: accessTtl,
        accessTokenFormat: 'jwt',
        jwt: { sign: { alg: 'RS256' } },
      }),
    },
  },
  ttl: {
    AccessToken: accessTtl,
    ClientCredentials: accessTtl,
    Grant: 3600,
    Interaction: 600,
    Session: 3600,
    AuthorizationCode: 60,
    RefreshToken: 86400,
  },
  rotateRefreshToken: true,
  issueRefreshToken: async (ctx, client) => client.grantTypeAllowed('refresh_token'),
  extraTokenClaims: async (ctx, token) => ({ tenant: 'default', user: token.accountId || 'mcp-agent' }),
  findAccount: async (ctx, id) => ({ accountId: id, claims: async () => ({ sub: id }) }),
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
});
provider.proxy = false;


provider.on('grant.success', (ctx) => {
  const type = ctx.oidc.params.grant_type;
  counts[type] = (counts[type] || 0) + 1;
});
provider.on('grant.error', (ctx) => {
  const type = `${ctx.oidc.params?.grant_type || 'unknown'}_error`;
  counts[type] = (counts[type] || 0) + 1;
});

provider.use(async (ctx, next) => {
  if (ctx.path === '/test/counts') {
    ctx.body = counts;
    return;
  }
  if (ctx.path === '/test/deny-next' && ctx.method === 'POST') {
    denyNext = true;
    ctx.body = { ok: true };
    return;
  }
  const m = ctx.path.match(/^\/interaction\/([^/]+)$/);
  if (m) {
    const details = await provider.interactionDetails(ctx.req, ctx.res);
    const { prompt, params, session } = details;
    if (process.env.DEBUG) console.error('interaction', JSON.stringify(prompt), JSON.stringify(session));
    let result;
    if (denyNext) {
      denyNext = false;
      result = { error: 'access_denied', error_description: 'The user declined the request' };
    } else if (prompt.name === 'login') {
      result = { login: { accountId: 'alice' } };
    } else {
      const grant = new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
      const missing = prompt.details;
      if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
      if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
      for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes || {})) {
        grant.addResourceScope(indicator, scopes.join(' '));
      }
      result = { consent: { grantId: await grant.save() } };
    }
    const returnTo = await provider.interactionResult(ctx.req, ctx.res, result, { mergeWithLastSubmission: false });
    ctx.status = 303;
    ctx.redirect(returnTo);
    return;
  }
  await next();
});

server.on('request', provider.callback());
console.log(`LISTENING ${port}`);
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
