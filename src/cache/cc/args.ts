/**
 * A C/C++/assembler compiler command line (gcc and clang spelling), as cc-rs sends it through the
 * `sccache` name. Only a single-source `-c` compile is cached; everything else (linking, `-E`,
 * stdin, several sources, flags whose file arguments galley cannot key) runs as it is.
 */
import { basename, extname } from "node:path";

export interface CcInvocation {
  compiler: string;
  args: string[];
  source?: string;
  /** The object file (`-o`, or the source's name with `.o` in the working directory). */
  output?: string;
  /** A dependency file the user asked for (`-MD`/`-MMD`, `-MF`). */
  depfile?: string;
  userHeadersOnly: boolean;
  uncacheable?: string;
}

const SOURCE_EXTENSIONS = new Set([
  ".c",
  ".cc",
  ".cpp",
  ".cxx",
  ".c++",
  ".C",
  ".m",
  ".mm",
  ".S",
  ".s",
  ".sx",
  ".i",
  ".ii",
]);

/** Flags whose value is the next argument. */
const SEPARATE_VALUE = new Set([
  "-o",
  "-I",
  "-isystem",
  "-iquote",
  "-idirafter",
  "-iprefix",
  "-iwithprefix",
  "-iwithprefixbefore",
  "-isysroot",
  "--sysroot",
  "-include",
  "-imacros",
  "-D",
  "-U",
  "-x",
  "-MF",
  "-MT",
  "-MQ",
  "-arch",
  "-target",
  "-Xclang",
  "-Xassembler",
  "-Xpreprocessor",
  "-mllvm",
  "-aux-info",
]);

/** Flags galley will not key: outputs beside the object, profiles and lists read from files. */
const UNKEYABLE = [
  /^-fprofile-(use|instr-use|sample-use)/,
  /^-fauto-profile/,
  /^-fsanitize-(black|ignore)list/,
  /^-fprofile-arcs$/,
  /^-ftest-coverage$/,
  /^--coverage$/,
  /^-save-temps/,
  /^-specs=/,
  /^-fdump-/,
  /^@/,
  /^-Xlinker$/,
  /^-Wl,/,
];

export function parseCcArgs(compiler: string, args: string[]): CcInvocation {
  const inv: CcInvocation = { compiler, args, userHeadersOnly: false };
  const refuse = (why: string) => {
    inv.uncacheable ??= why;
  };
  const sources: string[] = [];
  let compileOnly = false;
  let md = false;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === "-c") compileOnly = true;
    else if (arg === "-E" || arg === "-M" || arg === "-MM") refuse(`preprocessing only (${arg})`);
    else if (arg === "-S") refuse("assembly output (-S)");
    else if (arg === "-") refuse("input from stdin");
    else if (arg === "-MD" || arg === "-MMD") {
      md = true;
      if (arg === "-MMD") inv.userHeadersOnly = true;
    } else if (UNKEYABLE.some((re) => re.test(arg))) refuse(`${arg.split("=")[0]} (files galley cannot key)`);
    else if (SEPARATE_VALUE.has(arg)) {
      const value = args[++i];
      if (value === undefined) {
        refuse(`${arg} without a value`);
        break;
      }
      if (arg === "-o") inv.output = value;
      else if (arg === "-MF") inv.depfile = value;
    } else if (arg.startsWith("-o") && arg.length > 2) inv.output = arg.slice(2);
    else if (arg.startsWith("-MF") && arg.length > 3) inv.depfile = arg.slice(3);
    else if (arg.startsWith("-")) {
      // Any other flag carries its value inline (-DFOO=1, -O2, -std=c11, -Iinc): part of the key.
    } else if (SOURCE_EXTENSIONS.has(extname(arg))) sources.push(arg);
    else refuse(`argument ${arg} (a file galley cannot key)`);
  }
  if (!compileOnly) refuse("not a compile (-c): linking");
  if (sources.length === 0) refuse("no source file");
  else if (sources.length > 1) refuse("several source files");
  else inv.source = sources[0];
  if (inv.source && !inv.output) inv.output = `${basename(inv.source, extname(inv.source))}.o`;
  if (md && !inv.depfile && inv.output) inv.depfile = `${inv.output.replace(/\.[^./]*$/, "")}.d`;
  if (!md) inv.depfile = undefined;
  return inv;
}
