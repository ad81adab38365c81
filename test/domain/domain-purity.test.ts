import { describe, it, expect } from "vitest";
import { readdirSync, readFileSync } from "node:fs";
import { builtinModules } from "node:module";
import { dirname, join, posix, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";

// domain/ is pure (docs/architecture.md): no I/O, no clock or randomness, no imports from adapters or
// generated code. This test is the lint rule that enforces it.

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const DOMAIN = join(ROOT, "src", "domain");

const FORBIDDEN_CALLS: ReadonlyArray<readonly [RegExp, string]> = [
  [/\bDate\.now\s*\(/, "Date.now() (pass the time in)"],
  [/\bnew\s+Date\s*\(/, "new Date() (pass the time in)"],
  [/\bprocess\.env\b/, "process.env (only config.ts reads the environment)"],
  [/\bMath\.random\s*\(/, "Math.random() (not deterministic)"],
  [/\bperformance\.now\s*\(/, "performance.now() (pass the time in)"],
];

const IMPORT_PATTERNS: readonly RegExp[] = [
  /\b(?:import|export)\s+(?:type\s+)?[^;"'`]*?\bfrom\s*["']([^"']+)["']/g,
  /\bimport\s*["']([^"']+)["']/g,
  /\bimport\s*\(\s*["']([^"']+)["']\s*\)/g,
  /\brequire\s*\(\s*["']([^"']+)["']\s*\)/g,
];

const BUILTINS = new Set(builtinModules);

/** Problems in one domain source file; `dir` is the file's folder relative to src/domain ("" at the top). */
function purityProblems(source: string, dir = ""): string[] {
  const code = withoutComments(source);
  const problems: string[] = [];
  for (const pattern of IMPORT_PATTERNS) {
    for (const match of code.matchAll(pattern)) {
      const problem = importProblem(match[1]!, dir);
      if (problem !== undefined) problems.push(problem);
    }
  }
  for (const [pattern, what] of FORBIDDEN_CALLS) {
    if (pattern.test(code)) problems.push(`uses ${what}`);
  }
  return problems;
}

function importProblem(specifier: string, dir: string): string | undefined {
  if (specifier.startsWith("node:") || BUILTINS.has(specifier.split("/")[0]!)) {
    return `imports the Node module "${specifier}"`;
  }
  if (specifier.startsWith(".")) {
    const resolved = posix.normalize(posix.join("src/domain", dir, specifier));
    if (!resolved.startsWith("src/domain/")) return `imports "${specifier}" from outside domain/ (${resolved})`;
  }
  return undefined;
}

/** Drops // and /* comments (which may mention Date.now()) but keeps strings, where import paths live. */
function withoutComments(source: string): string {
  let out = "";
  // Template literals nest code in ${…}: a stack of brace depths tells where each one resumes.
  const templateDepths: number[] = [];
  let depth = 0;
  let i = 0;
  while (i < source.length) {
    const c = source[i]!;
    const next = source[i + 1];
    if (c === "/" && next === "/") {
      while (i < source.length && source[i] !== "\n") i++;
    } else if (c === "/" && next === "*") {
      const end = source.indexOf("*/", i + 2);
      i = end < 0 ? source.length : end + 2;
      out += " ";
    } else if (c === '"' || c === "'") {
      const start = i++;
      while (i < source.length && source[i] !== c && source[i] !== "\n") i += source[i] === "\\" ? 2 : 1;
      out += source.slice(start, ++i);
    } else if (c === "`" || (c === "}" && templateDepths.at(-1) === depth)) {
      if (c === "}") templateDepths.pop();
      const start = i++;
      while (i < source.length && source[i] !== "`" && !(source[i] === "$" && source[i + 1] === "{")) {
        i += source[i] === "\\" ? 2 : 1;
      }
      if (source[i] === "$") {
        templateDepths.push(depth);
        i += 2;
      } else {
        i++;
      }
      out += source.slice(start, i);
    } else {
      if (c === "{") depth++;
      if (c === "}") depth--;
      out += c;
      i++;
    }
  }
  return out;
}

function domainFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return domainFiles(path);
    return /\.(c|m)?ts$/.test(entry.name) ? [path] : [];
  });
}

describe("domain purity", () => {
  const files = domainFiles(DOMAIN);

  it("finds the domain sources", () => {
    expect(files.length).toBeGreaterThan(5);
  });

  it.each(files.map((f) => relative(DOMAIN, f).split(sep).join("/")))("%s is pure", (file) => {
    const source = readFileSync(join(DOMAIN, file), "utf8");
    expect(purityProblems(source, posix.dirname(file) === "." ? "" : posix.dirname(file))).toEqual([]);
  });
});

describe("the purity checker", () => {
  it.each([
    ['import { readFile } from "node:fs";', 'imports the Node module "node:fs"'],
    ['import fs from "fs";', 'imports the Node module "fs"'],
    ['import { join } from "path/posix";', 'imports the Node module "path/posix"'],
    ['import type { PolicyStore } from "../store/policy-store.js";', 'imports "../store/policy-store.js" from outside domain/ (src/store/policy-store.js)'],
    ['import { x } from "../bus/change-bus.js";', 'imports "../bus/change-bus.js" from outside domain/ (src/bus/change-bus.js)'],
    ['import {\n  a,\n  b,\n} from "../api/x.js";', 'imports "../api/x.js" from outside domain/ (src/api/x.js)'],
    ['export * from "../snapshot/snapshot.js";', 'imports "../snapshot/snapshot.js" from outside domain/ (src/snapshot/snapshot.js)'],
    ['import "../transport/side-effect.js";', 'imports "../transport/side-effect.js" from outside domain/ (src/transport/side-effect.js)'],
    ['const m = await import("../../gen/residency/v1/policy_pb.js");', 'imports "../../gen/residency/v1/policy_pb.js" from outside domain/ (gen/residency/v1/policy_pb.js)'],
    ["const t = Date.now();", "uses Date.now() (pass the time in)"],
    ["const d = new Date(0);", "uses new Date() (pass the time in)"],
    ["const s = `at ${new Date().toISOString()}`;", "uses new Date() (pass the time in)"],
    ["const e = process.env.HOME;", "uses process.env (only config.ts reads the environment)"],
    ["const r = Math.random();", "uses Math.random() (not deterministic)"],
  ])("flags %j", (source, problem) => {
    expect(purityProblems(source)).toEqual([problem]);
  });

  it.each([
    'import type { Region } from "./region.js";',
    'import { x } from "./sub/../vocabulary.js";',
    "// time comes in as epoch ms, never Date.now()",
    "/* no process.env here, no new Date() */ const a = 1;",
    'const url = "https://s3.eu-west-1.amazonaws.com"; const b = 2;',
    "const msg = `region ${id} // not a comment`; const c = { d: { e: 1 } };",
  ])("accepts %j", (source) => {
    expect(purityProblems(source)).toEqual([]);
  });

  it("resolves relative imports from nested folders", () => {
    expect(purityProblems('import { x } from "../region.js";', "frameworks")).toEqual([]);
    expect(purityProblems('import { x } from "../../store/x.js";', "frameworks")).toHaveLength(1);
  });
});
