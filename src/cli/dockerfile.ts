import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { isDigest } from "../cache/engine/digest.ts";
import { isDir, relPosix } from "../cargo/paths.ts";
import { chooseContext } from "../docker/generate/context.ts";
import { projectFacts } from "../docker/generate/project.ts";
import {
  type DockerfilePlan,
  dockerBuildLine,
  dockerignoreName,
  GALLEY_CONTEXT,
  GALLEY_DIR,
  type GalleySource,
  isMusl,
  MARKER,
  RUNTIMES,
  type Runtime,
  renderDockerfile,
  renderDockerignore,
  STORE_SECRET_FILE,
} from "../docker/generate/render.ts";
import { InputError, RefusedError, UsageError } from "../errors.ts";
import { isCompiled } from "../util/compiled.ts";
import { note } from "../util/term.ts";
import { type OptionTable, parseArgs, renderHelp } from "./args.ts";
import type { Command } from "./command.ts";

const OPTIONS = {
  write: {
    kind: "boolean",
    description:
      "Write the Dockerfile, its ignore file and .galley/ (galley's executable) into the project (default: print the Dockerfile)",
  },
  force: {
    kind: "boolean",
    description: "Overwrite a Dockerfile or .dockerignore that galley did not write",
  },
  bin: { kind: "string", value: "NAME", description: "The binary to ship (needed when there are several)" },
  runtime: {
    kind: "string",
    value: "KIND",
    description: `Runtime base: ${RUNTIMES.join(", ")} (default debian-slim)`,
  },
  "galley-from": {
    kind: "list",
    value: "HOW",
    description: "How galley gets into the build: context (default), image REF, url URL SHA256",
  },
  context: {
    kind: "string",
    value: "DIR",
    description:
      "Build context (default: the project, or the nearest directory that also holds its local packages outside it)",
  },
  "manifest-path": {
    kind: "string",
    value: "PATH",
    description: "Cargo.toml of the project (default: found from here)",
  },
  store: {
    kind: "string",
    value: "URL",
    description: `A shared cache store for the build steps (s3://…, redis://…); credentials go in ${STORE_SECRET_FILE}, passed as a BuildKit secret`,
  },
} as const satisfies OptionTable;

export const dockerfileCommand: Command = {
  name: "dockerfile",
  summary: "Write the multi-stage Dockerfile and .dockerignore that fit the project",
  help: () =>
    renderHelp(
      "galley dockerfile [--write] [--bin NAME] [--runtime KIND] [--context DIR] [--galley-from context|image REF|url URL SHA256] [--store URL]",
      dockerfileCommand.summary,
      OPTIONS,
      "\n--galley-from takes its words as separate values: --galley-from image --galley-from REF, or\n--galley-from=image --galley-from=ghcr.io/acme/galley:0.1 (the same for url URL SHA256).\n",
    ),
  async run(argv) {
    const { options } = parseArgs("dockerfile", OPTIONS, argv);
    const runtime = (options.runtime ?? "debian-slim") as Runtime;
    if (!RUNTIMES.includes(runtime)) {
      throw new UsageError(`--runtime ${options.runtime}: not one of ${RUNTIMES.join(", ")}`);
    }
    const galley = galleySource(options["galley-from"]);
    const store = options.store === undefined ? undefined : storeUrl(options.store);
    if (options.context !== undefined && !isDir(options.context)) {
      throw new UsageError(`--context ${options.context}: not a directory`);
    }
    const facts = projectFacts(resolve(options["manifest-path"] ?? "."), localRustVersion);
    const bin = chooseBin(facts.bins, options.bin);
    if (!facts.hasLockfile) {
      throw new InputError(
        `${join(facts.root, "Cargo.lock")}: missing; the Dockerfile builds with --locked`,
        "run `cargo generate-lockfile` and commit Cargo.lock",
      );
    }
    const context = chooseContext(
      facts.root,
      facts.outside,
      options.context === undefined ? undefined : resolve(options.context),
    );
    const plan: DockerfilePlan = {
      bin: bin.name,
      pkg: bin.pkg,
      rustVersion: facts.rust.version,
      rustFrom: facts.rust.from,
      runtime,
      galley,
      caCerts: facts.tlsCrates.length > 0 || isMusl(runtime),
      context: context.layout,
      ...(store ? { store } : {}),
    };
    note(
      `binary ${bin.name} (package ${bin.pkg}); Rust ${facts.rust.version} from ${facts.rust.from}; runtime ${runtime}`,
    );
    if (plan.caCerts && runtime !== "distroless") {
      note(
        facts.tlsCrates.length > 0
          ? `CA certificates copied into the runtime (TLS through ${facts.tlsCrates.join(", ")})`
          : "CA certificates copied into the runtime (a static image has none)",
      );
    }
    if (context.layout.project !== ".") {
      const outside = facts.outside.map((d) => relPosix(facts.root, d));
      note(
        `build context ${context.dir}${outside.length > 0 ? ` (local packages outside the project: ${outside.join(", ")})` : ""}; the build copies ${context.layout.copies.join(", ")}`,
      );
    }
    const dockerfile = renderDockerfile(plan);
    const written: (string | undefined)[] = [];
    if (options.write) {
      const ignoreName = dockerignoreName(context.layout);
      written.push(
        writeOwned(join(facts.root, "Dockerfile"), dockerfile, options.force),
        writeOwned(
          join(facts.root, ignoreName),
          renderDockerignore(context.layout, store !== undefined),
          options.force,
        ),
        removeStaleIgnore(join(facts.root, "Dockerfile.dockerignore"), ignoreName),
      );
      if (galley.kind === "context") written.push(...placeExecutable(join(facts.root, GALLEY_DIR)));
      const changed = written.filter((w) => w !== undefined);
      note(
        changed.length > 0 ? `wrote ${changed.join(", ")}` : `Dockerfile and ${ignoreName} are up to date`,
      );
    } else {
      process.stdout.write(dockerfile);
    }
    const here = (p: string) => relPosix(process.cwd(), p);
    const line = dockerBuildLine({
      dockerfile: context.layout.project === "." ? undefined : here(join(facts.root, "Dockerfile")),
      context: here(context.dir),
      galleyContext: galley.kind === "context" ? here(join(facts.root, GALLEY_DIR)) : undefined,
      tag: bin.name,
      ...(store ? { storeSecret: here(join(facts.root, STORE_SECRET_FILE)) } : {}),
    });
    if (store)
      note(
        `the build reads the store's credentials from ${STORE_SECRET_FILE} (KEY=VALUE lines, e.g. AWS_ACCESS_KEY_ID=…, AWS_SECRET_ACCESS_KEY=… or GALLEY_STORE_PASSWORD=…); keep it out of git`,
      );
    note(`build it with: ${line}`);
    return 0;
  },
};

/** The store URL for the Dockerfile: a scheme galley has, and no password (that goes in the secret). */
function storeUrl(url: string): string {
  const m = /^([a-z][a-z0-9+.-]*):\/\/([^/?#]*)/i.exec(url);
  if (!m) throw new UsageError(`--store ${url}: not a URL (s3://bucket/prefix, redis://host:6379, …)`);
  if (m[2]!.includes("@") && m[2]!.split("@")[0]!.includes(":"))
    throw new UsageError(
      `--store ${url.replace(/:[^:@/]*@/, ":***@")}: the URL carries a password, which would be written into the Dockerfile`,
      `put it in ${STORE_SECRET_FILE} as GALLEY_STORE_PASSWORD=… and give --store without it`,
    );
  return url;
}

function galleySource(words: string[]): GalleySource {
  const [kind, ...rest] = words;
  if (kind === undefined || (kind === "context" && rest.length === 0)) return { kind: "context" };
  if (kind === "image" && rest.length === 1) return { kind: "image", ref: rest[0]! };
  if (kind === "url" && rest.length === 2 && isDigest(rest[1]!)) {
    return { kind: "url", url: rest[0]!, sha256: rest[1]! };
  }
  throw new UsageError(
    `--galley-from ${words.join(" ")}: expected context, image REF, or url URL SHA256 (64 hex digits)`,
  );
}

function chooseBin(bins: { name: string; pkg: string }[], wanted: string | undefined) {
  if (wanted !== undefined) {
    const found = bins.find((b) => b.name === wanted);
    if (!found) {
      throw new InputError(
        `--bin ${wanted}: no binary of that name`,
        bins.length > 0 ? `binaries: ${bins.map((b) => b.name).join(", ")}` : "this project has no binaries",
      );
    }
    return found;
  }
  if (bins.length === 1) return bins[0]!;
  if (bins.length === 0) throw new InputError("this project has no binary to put in an image");
  throw new UsageError(`several binaries: choose one with --bin (${bins.map((b) => b.name).join(", ")})`);
}

/** Writes a file unless an equal one is there; refuses to replace one galley did not write. */
function writeOwned(path: string, contents: string, force: boolean): string | undefined {
  if (existsSync(path)) {
    const existing = readFileSync(path, "utf8");
    if (existing === contents) return undefined;
    if (!existing.startsWith(MARKER) && !force) {
      throw new RefusedError(
        `${path} exists and galley did not write it`,
        "pass --force to replace it, or remove it",
      );
    }
  }
  writeFileSync(path, contents);
  return path;
}

/**
 * Copies the running executable to `.galley/galley`, where the build's `galley` named context
 * takes it from, with an ignore file that keeps the directory out of git. Returns what changed.
 */
function placeExecutable(dir: string): (string | undefined)[] {
  if (!isCompiled()) {
    throw new UsageError("--galley-from context copies the galley executable: run the built dist/galley");
  }
  mkdirSync(dir, { recursive: true });
  const gitignore = join(dir, ".gitignore");
  const ignoreText = `${MARKER}\n# galley's own executable, for docker build: never commit it.\n*\n`;
  const wroteIgnore = writeOwned(gitignore, ignoreText, true);
  const dest = join(dir, "galley");
  const src = process.execPath;
  if (existsSync(dest) && readFileSync(dest).equals(readFileSync(src))) return [wroteIgnore];
  copyFileSync(src, dest);
  note(
    `copied galley's executable to ${dest}: the build takes it from there through --build-context ${GALLEY_CONTEXT}=${GALLEY_DIR} (offline, and out of the COPY . . layers); ${gitignore} keeps it out of git`,
  );
  return [wroteIgnore, dest];
}

/** A `Dockerfile.dockerignore` galley wrote for another context would override the `.dockerignore`. */
function removeStaleIgnore(path: string, current: string): string | undefined {
  if (current === "Dockerfile.dockerignore" || !existsSync(path)) return undefined;
  if (!readFileSync(path, "utf8").startsWith(MARKER)) return undefined;
  rmSync(path);
  return `${path} (removed: the build context is the project again)`;
}

function localRustVersion(): string | undefined {
  try {
    const p = Bun.spawnSync(["rustc", "--version"], { stdout: "pipe", stderr: "ignore" });
    const m = /^rustc (\d+\.\d+)\.\d+/.exec(p.stdout.toString());
    return m?.[1];
  } catch {
    return undefined;
  }
}
