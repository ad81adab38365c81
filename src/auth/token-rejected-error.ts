/** Which check a bearer token failed; each becomes its own UNAUTHENTICATED message. */
export type TokenRejection =
  | "malformed"
  | "bad_signature"
  | "expired"
  | "not_yet_valid"
  | "wrong_issuer"
  | "wrong_audience"
  | "algorithm_not_allowed"
  | "bad_claims";

/** A token that does not prove anything. The message names the failed check and never quotes the token. */
export class TokenRejectedError extends Error {
  override readonly name = "TokenRejectedError";
  constructor(
    readonly reason: TokenRejection,
    message: string,
  ) {
    super(message);
  }
}

/** The keys to check a token with could not be had (JWKS unreachable or broken): not the caller's fault. */
export class VerificationKeysUnavailableError extends Error {
  override readonly name = "VerificationKeysUnavailableError";
}
