/** What a shared store is configured with, whichever source (galley's names, sccache's, a file) gave it. */

export interface StoreConfig {
  /** scheme://..., e.g. s3://bucket/prefix, redis://host:6379/0, grpc://host:9092, https://host/cache */
  url: string;
  /** Where the setting came from, for messages (a variable's name or the config file's path). */
  source: string;
  readOnly: boolean;
  /** HMAC secret: records are signed when written and unsigned ones ignored when read. */
  secret?: string;
  username?: string;
  password?: string;
  token?: string;
  /**
   * Backend options by name: endpoint, region, key_prefix, path_style, anonymous, ttl, db,
   * instance_name, webdav, ... (each backend reads its own).
   */
  options: Record<string, string>;
  connectTimeoutMs: number;
  requestTimeoutMs: number;
  /** How long the other wrapper processes leave the store alone after a failure. */
  retryAfterMs: number;
  /** How long a wrapper waits for its upload before leaving it to the background queue. */
  writeGraceMs: number;
  /** Settings that were found but that galley does not support, said by `galley cache ping`. */
  ignored: string[];
}

/** What the sources give before defaults: every field optional. */
export type StoreSettings = Partial<Omit<StoreConfig, "options" | "ignored">> & {
  options?: Record<string, string>;
  ignored?: string[];
};
