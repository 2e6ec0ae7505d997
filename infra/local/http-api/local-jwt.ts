/**
 * A local stand-in for the identity provider behind the HTTP API's JWT authorizer: it signs
 * tokens for a caller id (`sub`) and verifies them the way API Gateway does (signature with the
 * issuer's key, `iss`, `aud`/`client_id`, `exp`, `nbf`, `iat`).
 *
 * RS256 on purpose: the HTTP API JWT authorizer only accepts RSA-signed tokens, so a local key of
 * another kind would let code rely on something the cloud refuses.
 */
import { randomUUID } from 'node:crypto';
import { link, mkdir, readFile, unlink, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import {
  SignJWT,
  calculateJwkThumbprint,
  decodeProtectedHeader,
  errors,
  exportJWK,
  generateKeyPair,
  importJWK,
  jwtVerify,
  type CryptoKey,
  type JWK,
  type JWTPayload,
} from 'jose';

export const DEFAULT_ISSUER = 'https://coderunner.local/';
export const DEFAULT_AUDIENCE = 'coderunner-api';
export const SIGNING_ALGORITHM = 'RS256';

export interface LocalJwtAuthorityOptions {
  /** Where the private key lives as a JWK (mode 0600); reused across restarts so printed tokens stay valid. */
  keyFile?: string;
  issuer?: string;
  audience?: string;
}

export interface IssueTokenOptions {
  /** A jose time span (`'12h'`, `'15 min'`, `'-1m'` for an already expired token) or seconds since the epoch. */
  expiresIn?: string | number;
  /** Extra claims, e.g. `scope`; the authority's own `sub`, `iss`, `aud`, `iat`, `exp` win over these. */
  claims?: JWTPayload;
}

export interface LocalJwtAuthority {
  readonly issuer: string;
  readonly audience: string;
  /** The public key set, as the authorizer would fetch it from the issuer's `jwks_uri`. */
  readonly jwks: { keys: JWK[] };
  issueToken(subject: string, options?: IssueTokenOptions): Promise<string>;
  /** Resolves with the verified claims; rejects with a {@link JwtRejectedError} otherwise. */
  verify(token: string): Promise<JWTPayload>;
}

/** A token the authorizer refuses; `description` is what goes into `www-authenticate`. */
export class JwtRejectedError extends Error {
  readonly description: string;

  constructor(description: string, options?: { cause?: unknown }) {
    super(`JWT rejected: ${description}`, options);
    this.name = 'JwtRejectedError';
    this.description = description;
  }
}

interface SigningKeys {
  kid: string;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  publicJwk: JWK;
}

export async function createLocalJwtAuthority(options: LocalJwtAuthorityOptions = {}): Promise<LocalJwtAuthority> {
  const issuer = options.issuer ?? DEFAULT_ISSUER;
  const audience = options.audience ?? DEFAULT_AUDIENCE;
  const keys = options.keyFile ? await loadOrCreateKeyFile(options.keyFile) : await importPrivateJwk(await generatePrivateJwk());

  return {
    issuer,
    audience,
    jwks: { keys: [keys.publicJwk] },
    issueToken: (subject, issueOptions = {}) => signToken(keys, { issuer, audience, subject, ...issueOptions }),
    verify: (token) => verifyToken(keys, { issuer, audience }, token),
  };
}

async function signToken(
  keys: SigningKeys,
  request: { issuer: string; audience: string; subject: string; expiresIn?: string | number; claims?: JWTPayload },
): Promise<string> {
  return new SignJWT({ ...request.claims })
    .setProtectedHeader({ alg: SIGNING_ALGORITHM, kid: keys.kid, typ: 'JWT' })
    .setSubject(request.subject)
    .setIssuer(request.issuer)
    .setAudience(request.audience)
    .setJti(randomUUID())
    .setIssuedAt()
    .setExpirationTime(request.expiresIn ?? '12h')
    .sign(keys.privateKey);
}

async function verifyToken(keys: SigningKeys, expected: { issuer: string; audience: string }, token: string): Promise<JWTPayload> {
  let payload: JWTPayload;
  try {
    // Like the authorizer, the header must name the key (kid) that signed the token.
    const header = decodeProtectedHeader(token);
    if (header.kid !== keys.kid) throw new JwtRejectedError('the token was not signed by a known key');
    ({ payload } = await jwtVerify(token, keys.publicKey, {
      algorithms: [SIGNING_ALGORITHM],
      issuer: expected.issuer,
      requiredClaims: ['exp'],
    }));
  } catch (error) {
    throw toRejection(error);
  }
  if (!hasExpectedAudience(payload, expected.audience)) throw new JwtRejectedError('the token does not have a valid audience');
  // jose only bounds iat with maxTokenAge; the authorizer also refuses tokens issued in the future.
  if (typeof payload.iat === 'number' && payload.iat > Math.ceil(Date.now() / 1000)) {
    throw new JwtRejectedError('the token was issued in the future');
  }
  return payload;
}

/** The authorizer accepts the audience in `aud`, or in `client_id` when `aud` is absent (Cognito access tokens). */
function hasExpectedAudience(payload: JWTPayload, audience: string): boolean {
  if (payload.aud !== undefined) return ([] as string[]).concat(payload.aud).includes(audience);
  return payload.client_id === audience;
}

function toRejection(error: unknown): JwtRejectedError {
  if (error instanceof JwtRejectedError) return error;
  if (error instanceof errors.JWTExpired) return new JwtRejectedError('the token has expired', { cause: error });
  if (error instanceof errors.JWTClaimValidationFailed) {
    return new JwtRejectedError(`the token has an invalid ${error.claim} claim`, { cause: error });
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) {
    return new JwtRejectedError('the token signature is invalid', { cause: error });
  }
  return new JwtRejectedError('the token could not be decoded', { cause: error });
}

async function generatePrivateJwk(): Promise<JWK> {
  const { privateKey } = await generateKeyPair(SIGNING_ALGORITHM, { extractable: true, modulusLength: 2048 });
  const jwk = await exportJWK(privateKey);
  return { ...jwk, kid: await calculateJwkThumbprint(jwk), alg: SIGNING_ALGORITHM, use: 'sig' };
}

async function importPrivateJwk(privateJwk: JWK): Promise<SigningKeys> {
  const publicJwk = toPublicJwk(privateJwk);
  const kid = privateJwk.kid ?? (await calculateJwkThumbprint(publicJwk));
  return {
    kid,
    privateKey: (await importJWK(privateJwk, SIGNING_ALGORITHM)) as CryptoKey,
    publicKey: (await importJWK(publicJwk, SIGNING_ALGORITHM)) as CryptoKey,
    publicJwk: { ...publicJwk, kid },
  };
}

/** Keeps only the public members of an RSA JWK. */
function toPublicJwk(jwk: JWK): JWK {
  const { kty, n, e, kid } = jwk;
  return { kty, n, e, kid, alg: SIGNING_ALGORITHM, use: 'sig' };
}

async function loadOrCreateKeyFile(keyFile: string): Promise<SigningKeys> {
  const existing = await readKeyFile(keyFile);
  if (existing) return importPrivateJwk(existing);
  await createKeyFile(keyFile, await generatePrivateJwk());
  // Re-read: a concurrent start may have won the race, and its key is the one to share.
  const created = await readKeyFile(keyFile);
  if (!created) throw new Error(`JWT key file ${keyFile} vanished right after it was written`);
  return importPrivateJwk(created);
}

async function readKeyFile(keyFile: string): Promise<JWK | undefined> {
  let text: string;
  try {
    text = await readFile(keyFile, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  // A broken file is an error, not a reason to mint a new key: that would silently invalidate tokens.
  let jwk: JWK;
  try {
    jwk = JSON.parse(text) as JWK;
  } catch (error) {
    throw new Error(`JWT key file ${keyFile} is not valid JSON; delete it to mint a new key`, { cause: error });
  }
  if (jwk.kty !== 'RSA' || typeof jwk.d !== 'string' || typeof jwk.n !== 'string') {
    throw new Error(`JWT key file ${keyFile} does not hold a private RSA JWK; delete it to mint a new key`);
  }
  return jwk;
}

/** Writes beside the target, then hard-links into place: atomic, and never overwrites a key another process just made. */
async function createKeyFile(keyFile: string, jwk: JWK): Promise<void> {
  await mkdir(dirname(keyFile), { recursive: true, mode: 0o700 });
  const temporary = `${keyFile}.${process.pid}.${randomUUID()}.tmp`;
  await writeFile(temporary, `${JSON.stringify(jwk, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  try {
    await link(temporary, keyFile);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  } finally {
    await unlink(temporary);
  }
}
