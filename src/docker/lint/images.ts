/**
 * What galley knows about well-known base images: which are Rust toolchain images, which Rust
 * version they carry, and which C library (and glibc version) they have. Unknown images are
 * unknown: rules that need these facts say nothing about them.
 */

export interface ImageRef {
  /** Registry host, if one is written (`ghcr.io`); Docker Hub's is dropped. */
  registry: string | undefined;
  /** The repository path without Docker Hub's `library/` (`rust`, `rustlang/rust`, `distroless/cc-debian12`). */
  name: string;
  tag: string | undefined;
  digest: string | undefined;
}

export function parseImageRef(ref: string): ImageRef {
  let rest = ref.trim();
  let digest: string | undefined;
  const at = rest.indexOf("@");
  if (at !== -1) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(":");
  if (colon > rest.lastIndexOf("/")) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
  }
  let registry: string | undefined;
  const slash = rest.indexOf("/");
  if (slash !== -1) {
    const first = rest.slice(0, slash);
    if (first.includes(".") || first.includes(":") || first === "localhost") {
      registry = first;
      rest = rest.slice(slash + 1);
    }
  }
  if (registry === "docker.io" || registry === "index.docker.io" || registry === "registry-1.docker.io")
    registry = undefined;
  if (registry === undefined && rest.startsWith("library/")) rest = rest.slice("library/".length);
  return { registry, name: rest.toLowerCase(), tag, digest };
}

/** `name` with its registry, as written in messages. */
export const fullName = (r: ImageRef): string => (r.registry ? `${r.registry}/${r.name}` : r.name);

export type Libc =
  | { kind: "glibc"; version: string; distro: string }
  | { kind: "musl"; distro: string }
  /** No C library at all: scratch, distroless/static. */
  | { kind: "none"; distro: string };

export interface RustImage {
  /** The Rust version the tag names ("1.90", "1.90.0", "1"), or a channel ("latest", "nightly"). */
  toolchain: string;
  /** Whether the tag names a Rust version at all (`rust:slim` and `rust:latest` do not). */
  versioned: boolean;
  /** The C library of the image, when the tag says which distribution it is. */
  libc: Libc | undefined;
}

const DEBIAN: Record<string, { version: string; distro: string }> = {
  buster: { version: "2.28", distro: "Debian 10 buster" },
  bullseye: { version: "2.31", distro: "Debian 11 bullseye" },
  bookworm: { version: "2.36", distro: "Debian 12 bookworm" },
  trixie: { version: "2.41", distro: "Debian 13 trixie" },
};
const DEBIAN_NUMBERS: Record<string, string> = {
  "10": "buster",
  "11": "bullseye",
  "12": "bookworm",
  "13": "trixie",
};

const UBUNTU: Record<string, string> = {
  "18.04": "2.27",
  bionic: "2.27",
  "20.04": "2.31",
  focal: "2.31",
  "22.04": "2.35",
  jammy: "2.35",
  "24.04": "2.39",
  noble: "2.39",
  "24.10": "2.40",
  oracular: "2.40",
  "25.04": "2.41",
  plucky: "2.41",
  "25.10": "2.42",
  questing: "2.42",
};
const UBUNTU_NAMES: Record<string, string> = {
  bionic: "18.04",
  focal: "20.04",
  jammy: "22.04",
  noble: "24.04",
  oracular: "24.10",
  plucky: "25.04",
  questing: "25.10",
};

/** Enterprise Linux majors: RHEL/UBI, Rocky, Alma, Oracle Linux, CentOS (Stream). */
const EL: Record<string, string> = { "7": "2.17", "8": "2.28", "9": "2.34", "10": "2.39" };
const FEDORA: Record<string, string> = {
  "38": "2.37",
  "39": "2.38",
  "40": "2.39",
  "41": "2.40",
  "42": "2.41",
  "43": "2.42",
};
const AMAZON: Record<string, string> = { "2": "2.26", "2023": "2.34" };

/**
 * The Debian release the official rust image's default (unsuffixed) tags were built on, by Rust
 * version: bullseye from 1.55, bookworm from 1.72, trixie from 1.90. The versions during which the
 * default changed (1.71, 1.89) were published on both, so they are left unknown.
 */
function rustDefaultDebian(version: string): string | undefined {
  const m = /^1\.(\d+)/.exec(version);
  if (!m) return version === "1" ? "trixie" : undefined;
  const minor = Number(m[1]);
  if (minor >= 90) return "trixie";
  if (minor >= 72 && minor <= 88) return "bookworm";
  if (minor >= 55 && minor <= 70) return "bullseye";
  if (minor >= 38 && minor <= 54) return "buster";
  return undefined;
}

const RUST_NAMES = /^(rust|rustlang\/rust|rust-lang\/rust)$/;
const MUSL_RUST = /^(clux\/muslrust|messense\/rust-musl-cross|ekidd\/rust-musl-builder|blackdex\/rust-musl)$/;

/** The Rust toolchain image a reference names, if it names one. */
export function rustImage(ref: ImageRef): RustImage | undefined {
  if (MUSL_RUST.test(ref.name))
    return {
      toolchain: ref.tag ?? "latest",
      versioned: /\d/.test(ref.tag ?? ""),
      libc: { kind: "musl", distro: ref.name },
    };
  if (ref.name === "lukemathwalker/cargo-chef") {
    // Tags: latest-rust-1, 0.1.72-rust-1.90-slim-bookworm, latest-rust-alpine.
    const m = /rust-(.*)$/.exec(ref.tag ?? "");
    return rustTag(m ? m[1]! : "latest");
  }
  if (!RUST_NAMES.test(ref.name)) return undefined;
  if (ref.name === "rustlang/rust") {
    // nightly images: nightly, nightly-slim, nightly-bookworm, nightly-alpine
    const t = rustTag(ref.tag ?? "latest");
    return { ...t, versioned: false };
  }
  return rustTag(ref.tag ?? "latest");
}

function rustTag(tag: string): RustImage {
  const parts = tag.split("-");
  const version = parts.find((p) => /^\d+(\.\d+){0,2}$/.test(p));
  const channel = parts.find((p) => p === "nightly" || p === "beta");
  const codename = parts.find((p) => p in DEBIAN);
  const alpine = parts.some((p) => p.startsWith("alpine"));
  let libc: Libc | undefined;
  if (alpine) libc = { kind: "musl", distro: "Alpine" };
  else if (tag.includes("$") && !codename) {
    // rust:${RUST_VERSION}: which Debian depends on a value only the build knows.
    return { toolchain: tag, versioned: false, libc: undefined };
  } else {
    const debian = codename ?? (version ? rustDefaultDebian(version) : channel ? "trixie" : "trixie");
    const d = debian ? DEBIAN[debian] : undefined;
    if (d) libc = { kind: "glibc", version: d.version, distro: d.distro };
  }
  return { toolchain: version ?? channel ?? "latest", versioned: version !== undefined, libc };
}

/** The C library of an image, for the images galley knows. */
export function imageLibc(ref: ImageRef): Libc | undefined {
  const rust = rustImage(ref);
  if (rust) return rust.libc;
  if (ref.name.includes("$") || ref.tag?.includes("$")) return undefined;
  const name = ref.name;
  const tag = ref.tag ?? "latest";
  const first = tag.split("-")[0] ?? tag;
  if (name === "scratch") return { kind: "none", distro: "scratch" };
  if (name === "alpine" || name.endsWith("/alpine")) return { kind: "musl", distro: `Alpine ${tag}` };
  if (name === "debian" || name === "buildpack-deps") {
    const codename = DEBIAN_NUMBERS[first.split(".")[0] ?? ""] ?? (first in DEBIAN ? first : undefined);
    const stable = first === "latest" || first === "stable" || first === "slim" ? "trixie" : undefined;
    const c = codename ?? stable ?? (first === "oldstable" ? "bookworm" : undefined);
    const d = c ? DEBIAN[c] : undefined;
    return d ? { kind: "glibc", version: d.version, distro: d.distro } : undefined;
  }
  if (name === "ubuntu") {
    const v = UBUNTU[first];
    return v ? { kind: "glibc", version: v, distro: `Ubuntu ${UBUNTU_NAMES[first] ?? first}` } : undefined;
  }
  if (name === "distroless/static") return { kind: "none", distro: "distroless/static" };
  const distroless = /^distroless\/([a-z-]+?)-debian(\d+)$/.exec(name);
  if (distroless) {
    const d = DEBIAN[DEBIAN_NUMBERS[distroless[2]!] ?? ""];
    if (distroless[1] === "static") return { kind: "none", distro: "distroless/static" };
    return d ? { kind: "glibc", version: d.version, distro: `distroless (${d.distro})` } : undefined;
  }
  const el =
    /^(?:(?:redhat\/)?ubi(\d+)(?:\/.*)?|rockylinux|almalinux|oraclelinux|rockylinux\/rockylinux|almalinux\/almalinux|centos|centos\/centos)$/.exec(
      name,
    );
  if (el) {
    const major = el[1] ?? first.replace(/^stream/, "").split(".")[0]!;
    const v = EL[major];
    return v ? { kind: "glibc", version: v, distro: `Enterprise Linux ${major}` } : undefined;
  }
  if (name === "fedora") {
    const v = FEDORA[first];
    return v ? { kind: "glibc", version: v, distro: `Fedora ${first}` } : undefined;
  }
  if (name === "amazonlinux") {
    const v = AMAZON[first.split(".")[0] ?? ""];
    return v ? { kind: "glibc", version: v, distro: `Amazon Linux ${first}` } : undefined;
  }
  return undefined;
}

/** Compares two glibc versions ("2.36" < "2.41"). */
export function compareGlibc(a: string, b: string): number {
  const [a1, a2] = a.split(".").map(Number);
  const [b1, b2] = b.split(".").map(Number);
  return (a1 ?? 0) - (b1 ?? 0) || (a2 ?? 0) - (b2 ?? 0);
}

/** Images whose default user is not root (distroless `:nonroot`, Chainguard). */
export function runsAsNonRoot(ref: ImageRef): boolean {
  if (ref.registry === "cgr.dev") return true;
  return /(^|-)nonroot($|-)/.test(ref.tag ?? "");
}
