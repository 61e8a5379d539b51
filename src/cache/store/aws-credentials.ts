/**
 * AWS credentials the way the AWS tools find them: the AWS_* variables, else the profile
 * (AWS_PROFILE, else "default") of the shared credentials file (AWS_SHARED_CREDENTIALS_FILE, else
 * ~/.aws/credentials), with the region from AWS_REGION, AWS_DEFAULT_REGION or ~/.aws/config.
 */
import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

type Env = Record<string, string | undefined>;

export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export function awsCredentials(env: Env): AwsCredentials | undefined {
  if (env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY)
    return {
      accessKeyId: env.AWS_ACCESS_KEY_ID,
      secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
      ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}),
    };
  const file = env.AWS_SHARED_CREDENTIALS_FILE || join(env.HOME || homedir(), ".aws", "credentials");
  const profile = iniSection(file, env.AWS_PROFILE || "default");
  if (!profile?.aws_access_key_id || !profile.aws_secret_access_key) return undefined;
  return {
    accessKeyId: profile.aws_access_key_id,
    secretAccessKey: profile.aws_secret_access_key,
    ...(profile.aws_session_token ? { sessionToken: profile.aws_session_token } : {}),
  };
}

export function awsRegion(env: Env): string | undefined {
  if (env.AWS_REGION || env.AWS_DEFAULT_REGION) return env.AWS_REGION || env.AWS_DEFAULT_REGION;
  const file = env.AWS_CONFIG_FILE || join(env.HOME || homedir(), ".aws", "config");
  const name = env.AWS_PROFILE || "default";
  return iniSection(file, name === "default" ? name : `profile ${name}`)?.region;
}

/** One [section] of an INI file, keys lower-cased; undefined when the file or section is absent. */
function iniSection(file: string, section: string): Record<string, string> | undefined {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
  let current: string | undefined;
  let found: Record<string, string> | undefined;
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#") || line.startsWith(";")) continue;
    const head = /^\[(.+)\]$/.exec(line);
    if (head) {
      current = head[1]!.trim();
      if (current === section) found ??= {};
      continue;
    }
    const kv = /^([^=]+?)\s*=\s*(.*)$/.exec(line);
    if (kv && current === section && found) found[kv[1]!.toLowerCase()] = kv[2]!;
  }
  return found;
}
