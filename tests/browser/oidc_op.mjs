// A local OpenID provider in the style of the SPID/CIE OpenID Connect
// profile, for the relying party's tests. Built on oidc-provider.
//
//   node oidc_op.mjs [--accounts JSON]
//
// --accounts maps a fiscal code to { given_name, family_name }; any fiscal
// code is accepted at login, unknown ones get "Utente" "Di Prova".
//
// Prints one line to stdout once listening on 127.0.0.1 (free port):
//   {"issuer":"http://127.0.0.1:PORT"}
// then nothing else there (logs go to stderr). Exits when stdin closes or
// on SIGTERM.
//
// Clients are not registered: the client_id is the relying party's entity
// id (http://127.0.0.1:PORT), whose self-signed Entity Configuration at
// /.well-known/openid-federation supplies its metadata.
//
// Endpoints: /auth, /token, /me (userinfo), /jwks, /session/end,
// /token/revocation, /.well-known/openid-configuration.
//
// Pages, for a browser:
// - login (/interaction/<uid>): fill input#cf, click button[type=submit]
//   ("Entra");
// - consent: click button[type=submit] ("Acconsento");
// - logout confirmation (/session/end): click button[autofocus]
//   (name="logout" value="yes"); it ends with a redirect to the
//   post_logout_redirect_uri when one was given with id_token_hint.
//
// Test controls:
// - POST /_tamper {"mode":"none"|"nonce"|"signature"}: alters the id_token
//   of the next token response only ("nonce": other nonce, signed with the
//   provider's own key; "signature": same payload, signed by an unrelated
//   key under the provider's kid).
// - GET /_events: JSON array of what happened, in order.
import * as crypto from "node:crypto";
import * as http from "node:http";
import * as jose from "jose";

// oidc-provider prints notices with console.info; stdout carries only the
// ready line.
console.log = console.info = (...args) => console.error(...args);
const { default: Provider } = await import("oidc-provider");

const ACR = [
  "https://www.spid.gov.it/SpidL1",
  "https://www.spid.gov.it/SpidL2",
  "https://www.spid.gov.it/SpidL3",
];
const FISCAL_NUMBER = "https://attributes.eid.gov.it/fiscal_number";
const ENTITY_TYPE = "application/entity-statement+jwt";

function parseAccounts() {
  const at = process.argv.indexOf("--accounts");
  if (at === -1) return {};
  const parsed = JSON.parse(process.argv[at + 1] ?? "");
  if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) {
    throw new TypeError("--accounts must be a JSON object");
  }
  return Object.fromEntries(
    Object.entries(parsed).map(([cf, names]) => [cf.trim().toUpperCase(), names]),
  );
}

const accounts = parseAccounts();
const events = [];
let tamperMode = "none";
let provider;

function log(...args) {
  console.error("oidc_op:", ...args);
}

// The provider's signing key.
const { privateKey: opPrivateKey } = await jose.generateKeyPair("RS256", { extractable: true });
const opJwk = {
  ...(await jose.exportJWK(opPrivateKey)),
  kid: `op-${crypto.randomBytes(6).toString("hex")}`,
  alg: "RS256",
  use: "sig",
};

// The relying party's metadata, from its Entity Configuration.
async function resolveClient(id) {
  if (typeof id !== "string" || !id.startsWith("http://127.0.0.1:")) {
    throw new Error("not a loopback entity id");
  }
  const url = `${id.replace(/\/+$/, "")}/.well-known/openid-federation`;
  const response = await fetch(url, { redirect: "error", signal: AbortSignal.timeout(5000) });
  if (response.status !== 200) {
    throw new Error(`${url} answered ${response.status}`);
  }
  const type = (response.headers.get("content-type") || "").split(";")[0].trim().toLowerCase();
  if (type !== ENTITY_TYPE) {
    throw new Error(`${url} has content-type ${type || "(none)"}`);
  }
  const token = (await response.text()).trim();
  const unverified = jose.decodeJwt(token);
  if (!unverified.jwks || !Array.isArray(unverified.jwks.keys)) {
    throw new Error("entity configuration has no jwks");
  }
  const { payload } = await jose.jwtVerify(token, jose.createLocalJWKSet(unverified.jwks), {
    typ: "entity-statement+jwt",
  });
  if (payload.iss !== id || payload.sub !== id) {
    throw new Error(`iss ${payload.iss} / sub ${payload.sub} differ from ${id}`);
  }
  const rp = payload.metadata?.openid_relying_party;
  if (!rp || typeof rp !== "object") {
    throw new Error("no metadata.openid_relying_party");
  }
  if (rp.token_endpoint_auth_method !== undefined && rp.token_endpoint_auth_method !== "private_key_jwt") {
    throw new Error(`token_endpoint_auth_method ${rp.token_endpoint_auth_method}`);
  }
  const metadata = {
    client_id: id,
    response_types: ["code"],
    grant_types: ["authorization_code"],
    token_endpoint_auth_method: "private_key_jwt",
    application_type: "web",
  };
  for (const key of [
    "redirect_uris",
    "post_logout_redirect_uris",
    "response_types",
    "grant_types",
    "token_endpoint_auth_signing_alg",
    "request_object_signing_alg",
    "id_token_signed_response_alg",
    "userinfo_signed_response_alg",
    "userinfo_encrypted_response_alg",
    "userinfo_encrypted_response_enc",
    "jwks",
    "client_name",
    "application_type",
  ]) {
    if (rp[key] !== undefined) metadata[key] = rp[key];
  }
  // The provider validates the metadata again; fail here, with a reason.
  new provider.Client(structuredClone(metadata));
  return metadata;
}

// In-memory storage for every model; Client is resolved as above.
const stores = new Map();
const clients = new Map();
const grantable = new Set([
  "AccessToken",
  "AuthorizationCode",
  "RefreshToken",
  "DeviceCode",
  "BackchannelAuthenticationRequest",
]);

class Adapter {
  constructor(model) {
    this.model = model;
    if (!stores.has(model)) stores.set(model, new Map());
    this.store = stores.get(model);
  }

  static index(name) {
    if (!stores.has(name)) stores.set(name, new Map());
    return stores.get(name);
  }

  async upsert(id, payload, expiresIn) {
    const expiresAt = typeof expiresIn === "number" ? Date.now() + expiresIn * 1000 : Infinity;
    this.store.set(id, { payload, expiresAt });
    if (this.model === "Session" && payload.uid) Adapter.index("#uid").set(payload.uid, id);
    if (payload.userCode) Adapter.index("#userCode").set(payload.userCode, id);
    if (grantable.has(this.model) && payload.grantId) {
      const grants = Adapter.index("#grant");
      if (!grants.has(payload.grantId)) grants.set(payload.grantId, []);
      grants.get(payload.grantId).push([this.model, id]);
    }
  }

  async find(id) {
    if (this.model === "Client") {
      if (clients.has(id)) return structuredClone(clients.get(id));
      try {
        const metadata = await resolveClient(id);
        clients.set(id, metadata);
        return structuredClone(metadata);
      } catch (err) {
        log(`client ${id} rejected: ${err.message}`);
        return undefined;
      }
    }
    const entry = this.store.get(id);
    if (!entry) return undefined;
    if (entry.expiresAt <= Date.now()) {
      this.store.delete(id);
      return undefined;
    }
    return entry.payload;
  }

  async findByUid(uid) {
    const id = Adapter.index("#uid").get(uid);
    return id === undefined ? undefined : this.find(id);
  }

  async findByUserCode(userCode) {
    const id = Adapter.index("#userCode").get(userCode);
    return id === undefined ? undefined : this.find(id);
  }

  async consume(id) {
    const entry = this.store.get(id);
    if (entry) entry.payload.consumed = Math.floor(Date.now() / 1000);
  }

  async destroy(id) {
    this.store.delete(id);
  }

  async revokeByGrantId(grantId) {
    const grants = Adapter.index("#grant");
    for (const [model, id] of grants.get(grantId) ?? []) {
      stores.get(model)?.delete(id);
    }
    grants.delete(grantId);
  }
}

function subjectFor(fiscalCode) {
  return crypto.createHash("sha256").update(fiscalCode).digest("hex");
}

function accountFor(fiscalCode) {
  const known = accounts[fiscalCode] ?? {};
  return {
    accountId: fiscalCode,
    async claims() {
      return {
        sub: fiscalCode, // replaced by pairwiseIdentifier in tokens and userinfo
        [FISCAL_NUMBER]: `TINIT-${fiscalCode}`,
        given_name: known.given_name ?? "Utente",
        family_name: known.family_name ?? "Di Prova",
      };
    },
  };
}

function html(value) {
  return String(value).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function page(title, body) {
  return `<!DOCTYPE html>
<html lang="it">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${html(title)}</title>
<style>body{font-family:sans-serif;max-width:32rem;margin:2rem auto;padding:0 1rem}label,input,button{display:block;margin:.5rem 0}button{padding:.5rem 1rem}</style>
</head>
<body>
<main>
${body}
</main>
</body>
</html>`;
}

const enc = ["RSA-OAEP", "RSA-OAEP-256"];
const encEnc = ["A128CBC-HS256", "A256CBC-HS512", "A128GCM", "A256GCM"];
const sig = ["RS256", "RS512", "PS256", "PS512", "ES256", "ES512"];

const config = {
  adapter: Adapter,
  jwks: { keys: [opJwk] },
  findAccount: async (_ctx, id) => accountFor(id),
  // oidc-provider always sets sub to the account id; a pairwise subject
  // type is the hook that turns the fiscal code into another identifier.
  subjectTypes: ["pairwise"],
  pairwiseIdentifier: async (_ctx, accountId) => subjectFor(accountId),
  acrValues: ACR,
  claims: {
    openid: ["sub"],
    profile: ["given_name", "family_name"],
    [FISCAL_NUMBER]: null,
    given_name: null,
    family_name: null,
    acr: null,
  },
  clientAuthMethods: ["private_key_jwt"],
  clientDefaults: {
    grant_types: ["authorization_code"],
    id_token_signed_response_alg: "RS256",
    response_types: ["code"],
    token_endpoint_auth_method: "private_key_jwt",
  },
  responseTypes: ["code"],
  pkce: { required: () => true },
  cookies: {
    keys: [crypto.randomBytes(32).toString("hex")],
    long: { secure: false, httpOnly: true, sameSite: "lax" },
    short: { secure: false, httpOnly: true, sameSite: "lax" },
  },
  enabledJWA: {
    clientAuthSigningAlgValues: sig,
    requestObjectSigningAlgValues: sig,
    idTokenSigningAlgValues: sig,
    userinfoSigningAlgValues: sig,
    idTokenEncryptionAlgValues: enc,
    idTokenEncryptionEncValues: encEnc,
    userinfoEncryptionAlgValues: enc,
    userinfoEncryptionEncValues: encEnc,
    // Encrypted request objects would need a client secret: none here.
    requestObjectEncryptionAlgValues: [],
    requestObjectEncryptionEncValues: [],
  },
  features: {
    devInteractions: { enabled: false },
    claimsParameter: { enabled: true },
    encryption: { enabled: true },
    userinfo: { enabled: true },
    jwtUserinfo: { enabled: true },
    revocation: {
      enabled: true,
      // A client revokes only its own tokens.
      async allowedPolicy(_ctx, client, token) {
        return token.clientId === client.clientId;
      },
    },
    requestObjects: { enabled: true, requireSignedRequestObject: true },
    pushedAuthorizationRequests: { enabled: false },
    rpInitiatedLogout: {
      enabled: true,
      // Same form and buttons as the default page, without remote fonts.
      async logoutSource(ctx, form) {
        ctx.body = page(
          "Uscita",
          `<h1>Vuoi uscire da ${html(ctx.host)}?</h1>
${form}
<button autofocus type="submit" form="op.logoutForm" value="yes" name="logout">Sì, esci</button>
<button type="submit" form="op.logoutForm">No, resta collegato</button>`,
        );
      },
      async postLogoutSuccessSource(ctx) {
        ctx.body = page("Uscita riuscita", "<h1>Uscita riuscita</h1>");
      },
    },
  },
  interactions: {
    url: async (_ctx, interaction) => `/interaction/${interaction.uid}`,
  },
  async renderError(ctx, out) {
    ctx.type = "html";
    ctx.body = page(
      "Errore",
      `<h1>Errore</h1>${Object.entries(out).map(([k, v]) => `<p><strong>${html(k)}</strong>: ${html(v)}</p>`).join("")}`,
    );
  },
  // Default values, set so that oidc-provider does not print notices.
  ttl: {
    AccessToken: 60 * 60,
    AuthorizationCode: 60,
    IdToken: 60 * 60,
    Interaction: 60 * 60,
    Session: 14 * 24 * 60 * 60,
    Grant: 14 * 24 * 60 * 60,
  },
};

async function readBody(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return Buffer.concat(chunks).toString("utf8");
}

function send(res, status, type, body) {
  res.writeHead(status, { "Content-Type": type, "Cache-Control": "no-store" });
  res.end(body);
}

function consentList(details) {
  const items = new Set();
  const scopes = details.prompt.details.missingOIDCScope ?? String(details.params.scope ?? "").split(" ");
  for (const scope of scopes) if (scope) items.add(`scope: ${scope}`);
  let claims = details.prompt.details.missingOIDCClaims;
  if (!claims?.length) {
    try {
      const requested = JSON.parse(details.params.claims ?? "{}");
      claims = [...Object.keys(requested.userinfo ?? {}), ...Object.keys(requested.id_token ?? {})];
    } catch {
      claims = [];
    }
  }
  for (const claim of claims) items.add(claim);
  return [...items].map((item) => `<li>${html(item)}</li>`).join("\n");
}

async function interaction(req, res, uid, action) {
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) throw new Error("interaction mismatch");
  const { prompt, params, session } = details;

  if (req.method === "GET" && !action) {
    if (prompt.name === "login") {
      return send(res, 200, "text/html; charset=utf-8", page(
        "Accesso di prova",
        `<h1>Accesso di prova</h1>
<form method="post" action="/interaction/${html(uid)}/login">
<label for="cf">Codice fiscale</label>
<input id="cf" name="cf" required autocomplete="off">
<button type="submit">Entra</button>
</form>`,
      ));
    }
    if (prompt.name === "consent") {
      return send(res, 200, "text/html; charset=utf-8", page(
        "Consenso",
        `<h1>Consenso</h1>
<p>${html(params.client_id)} chiede:</p>
<ul>
${consentList(details)}
</ul>
<form method="post" action="/interaction/${html(uid)}/confirm">
<button type="submit">Acconsento</button>
</form>`,
      ));
    }
    throw new Error(`unsupported prompt ${prompt.name}`);
  }

  if (req.method === "POST" && action === "login") {
    if (prompt.name !== "login") throw new Error("not a login prompt");
    const form = new URLSearchParams(await readBody(req));
    const cf = (form.get("cf") ?? "").trim().toUpperCase();
    if (!cf) throw new Error("missing cf");
    const requested = String(params.acr_values ?? "").split(" ");
    const acr = requested.find((value) => ACR.includes(value)) ?? ACR[1];
    return provider.interactionFinished(
      req,
      res,
      { login: { accountId: cf, acr, amr: ["pwd"] } },
      { mergeWithLastSubmission: false },
    );
  }

  if (req.method === "POST" && action === "confirm") {
    if (prompt.name !== "consent") throw new Error("not a consent prompt");
    await readBody(req);
    const { accountId } = session;
    const grant = (details.grantId && (await provider.Grant.find(details.grantId)))
      || new provider.Grant({ accountId, clientId: params.client_id });
    const missing = prompt.details;
    if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(" "));
    if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
    if (missing.missingResourceScopes) {
      for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes)) {
        grant.addResourceScope(indicator, scopes.join(" "));
      }
    }
    const grantId = await grant.save();
    return provider.interactionFinished(
      req,
      res,
      { consent: { grantId } },
      { mergeWithLastSubmission: true },
    );
  }

  throw new Error("unknown interaction action");
}

async function tamper(idToken, mode) {
  const header = jose.decodeProtectedHeader(idToken);
  const payload = jose.decodeJwt(idToken);
  let key = opPrivateKey;
  if (mode === "nonce") {
    payload.nonce = crypto.randomBytes(16).toString("base64url");
  } else {
    ({ privateKey: key } = await jose.generateKeyPair(header.alg || "RS256"));
  }
  return new jose.CompactSign(new TextEncoder().encode(JSON.stringify(payload)))
    .setProtectedHeader(header)
    .sign(key);
}

const server = http.createServer();
await new Promise((resolve, reject) => {
  server.once("error", reject);
  server.listen(0, "127.0.0.1", resolve);
});
const issuer = `http://127.0.0.1:${server.address().port}`;
provider = new Provider(issuer, config);

// At the token endpoint oidc-provider puts no at_hash in the ID token; add
// it (opaque access tokens: the token value is the model's jti).
const issueIdToken = provider.IdToken.prototype.issue;
provider.IdToken.prototype.issue = function issue(options) {
  const oidc = this.ctx?.oidc;
  const accessToken = oidc?.route === "token" ? oidc.entities.AccessToken : undefined;
  if (options?.use === "idtoken" && accessToken?.jti && !this.extra.at_hash) {
    this.set("at_hash", accessToken.jti);
  }
  return issueIdToken.call(this, options);
};

provider.on("server_error", (_ctx, err) => log("server_error", err));

const paths = {
  authorization: provider.pathFor("authorization"),
  token: provider.pathFor("token"),
  userinfo: provider.pathFor("userinfo"),
  revocation: provider.pathFor("revocation"),
  endSession: provider.pathFor("end_session"),
};

provider.use(async (ctx, next) => {
  const { path } = ctx;
  if (path === paths.authorization && ctx.query.request !== undefined) {
    events.push("authorization");
  }
  if (path === paths.userinfo && ctx.method !== "OPTIONS") events.push("userinfo");
  if (path === paths.revocation && ctx.method === "POST") events.push("revocation");
  if (path === paths.endSession) {
    // The relying party's logout request (not the confirmation, which
    // oidc-provider also uses when another account logs in).
    await next();
    if (ctx.status < 400) events.push("end_session");
    return;
  }
  if (path !== paths.token || ctx.method !== "POST") return next();

  await next();
  events.push("token");
  const params = ctx.oidc?.body ?? ctx.oidc?.params ?? {};
  if (params.client_assertion_type === "urn:ietf:params:oauth:client-assertion-type:jwt-bearer") {
    events.push("token:private_key_jwt");
  }
  const { body } = ctx;
  if (ctx.status >= 400 && body?.error) {
    events.push(`token:error:${body.error}`);
    log(`token error: ${body.error} ${body.error_description ?? ""}`);
  }
  if (tamperMode !== "none" && ctx.status === 200 && typeof body?.id_token === "string") {
    const mode = tamperMode;
    tamperMode = "none";
    body.id_token = await tamper(body.id_token, mode);
    events.push(`tampered:${mode}`);
  }
});

provider.on("authorization.error", (_ctx, err) => log(`authorization error: ${err.error} ${err.error_description ?? ""}`));
provider.on("userinfo.error", (_ctx, err) => log(`userinfo error: ${err.error} ${err.error_description ?? ""}`));

const callback = provider.callback();

server.on("request", async (req, res) => {
  const url = new URL(req.url, issuer);
  const match = /^\/interaction\/([^/]+)(?:\/(login|confirm))?$/.exec(url.pathname);
  try {
    if (match) {
      return await interaction(req, res, match[1], match[2]);
    }
    if (url.pathname === "/_tamper" && req.method === "POST") {
      const { mode } = JSON.parse(await readBody(req));
      if (!["none", "nonce", "signature"].includes(mode)) throw new Error("unknown mode");
      tamperMode = mode;
      return send(res, 200, "application/json", JSON.stringify({ mode }));
    }
    if (url.pathname === "/favicon.ico") {
      res.writeHead(204);
      return res.end();
    }
    if (url.pathname === "/_events" && req.method === "GET") {
      return send(res, 200, "application/json", JSON.stringify(events));
    }
    return callback(req, res);
  } catch (err) {
    const reason = err.error_description ?? err.message;
    log(`${req.method} ${url.pathname}: ${reason}`);
    if (!res.headersSent) send(res, 400, "text/plain; charset=utf-8", `Richiesta non valida: ${reason}\n`);
    else res.end();
  }
});

process.on("SIGTERM", () => process.exit(0));
process.stdin.on("end", () => process.exit(0));
process.stdin.on("close", () => process.exit(0));
process.stdin.resume();

process.stdout.write(`${JSON.stringify({ issuer })}\n`);
