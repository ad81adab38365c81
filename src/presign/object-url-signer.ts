/** What a presigned URL is for. */
export interface ObjectUrlRequest {
  /** Catalog region id, for the signing region. */
  readonly regionId: string;
  readonly bucket: string;
  /** S3-compatible endpoint URL of the region's storage (AWS or MinIO). */
  readonly endpoint: string;
  readonly key: string;
  readonly method: "GET" | "PUT";
  readonly expiresSeconds: number;
}

/** Signs object URLs; the S3 implementation uses the AWS SDK v3 presigner (SigV4). */
export interface ObjectUrlSigner {
  /** False when no credentials are configured: the RPC answers FAILED_PRECONDITION. */
  readonly configured: boolean;
  sign(request: ObjectUrlRequest): Promise<string>;
}
