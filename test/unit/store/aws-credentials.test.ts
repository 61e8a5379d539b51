import { afterAll, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { awsCredentials, awsRegion } from "../../../src/cache/store/aws-credentials.ts";
import { removeDir, tempDir } from "../../helpers.ts";

const home = tempDir("galley-aws-");
afterAll(() => removeDir(home));
mkdirSync(join(home, ".aws"));
writeFileSync(
  join(home, ".aws", "credentials"),
  "[default]\naws_access_key_id = AKDEFAULT\naws_secret_access_key = s3cret\n\n[ci]\naws_access_key_id=AKCI\naws_secret_access_key=ci-secret\naws_session_token=tok\n",
);
writeFileSync(
  join(home, ".aws", "config"),
  "[default]\nregion = eu-north-1\n[profile ci]\nregion = ap-south-1\n",
);

test("credentials from the variables first, else the profile of the shared credentials file", () => {
  expect(awsCredentials({ HOME: home, AWS_ACCESS_KEY_ID: "AKENV", AWS_SECRET_ACCESS_KEY: "e" })).toEqual({
    accessKeyId: "AKENV",
    secretAccessKey: "e",
  });
  expect(awsCredentials({ HOME: home })).toEqual({ accessKeyId: "AKDEFAULT", secretAccessKey: "s3cret" });
  expect(awsCredentials({ HOME: home, AWS_PROFILE: "ci" })).toEqual({
    accessKeyId: "AKCI",
    secretAccessKey: "ci-secret",
    sessionToken: "tok",
  });
  expect(awsCredentials({ HOME: home, AWS_PROFILE: "none" })).toBeUndefined();
  expect(awsCredentials({ HOME: join(home, "nowhere") })).toBeUndefined();
});

test("the region from the variables, else the profile of ~/.aws/config", () => {
  expect(awsRegion({ HOME: home, AWS_REGION: "us-west-1" })).toBe("us-west-1");
  expect(awsRegion({ HOME: home })).toBe("eu-north-1");
  expect(awsRegion({ HOME: home, AWS_PROFILE: "ci" })).toBe("ap-south-1");
});
