import { GetObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import { AWS_REGION_OF } from "../domain/default-region-catalog.js";
import type { ObjectUrlRequest, ObjectUrlSigner } from "./object-url-signer.js";

export interface S3Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string | undefined;
}

/** MinIO and other S3-compatible servers are addressed path-style; AWS endpoints virtual-host style. */
const isAwsEndpoint = (endpoint: string) => /\.amazonaws\.com(\.cn)?(:\d+)?\/?$/.test(new URL(endpoint).host);

/**
 * SigV4 presigned URLs through the AWS SDK v3 presigner. One S3 client per endpoint, made on first use.
 * The signing region is the AWS region of a catalog region (us-east-1 for regions the built-in catalog
 * does not know, which is what MinIO expects by default).
 */
export function createS3ObjectUrlSigner(credentials: S3Credentials | undefined): ObjectUrlSigner {
  const clients = new Map<string, S3Client>();
  const clientFor = (request: ObjectUrlRequest): S3Client => {
    const key = `${request.regionId}|${request.endpoint}`;
    let client = clients.get(key);
    if (client === undefined) {
      client = new S3Client({
        region: AWS_REGION_OF[request.regionId] ?? "us-east-1",
        endpoint: request.endpoint,
        forcePathStyle: !isAwsEndpoint(request.endpoint),
        credentials: credentials!,
      });
      clients.set(key, client);
    }
    return client;
  };
  return {
    configured: credentials !== undefined,
    async sign(request) {
      if (credentials === undefined) throw new Error("no AWS credentials configured");
      const input = { Bucket: request.bucket, Key: request.key };
      const command = request.method === "GET" ? new GetObjectCommand(input) : new PutObjectCommand(input);
      return getSignedUrl(clientFor(request), command, { expiresIn: request.expiresSeconds });
    },
  };
}
