// The fenced code examples of the documentation, as the install check runs them (see
// docs/contributing.md, "Doc examples are tests"):
// - every ```ts / ```js example in packages/*/README.md, apps/*/README.md and docs/**/*.md runs in a
//   fresh project that installs the packed tarballs, unless the line before its fence is
//   `<!-- fragment -->` (a signature, an excerpt, or code that needs model weights or a dataset);
// - a shell example runs only when the line before its fence is `<!-- run -->` (cheap commands);
// - the json block after `<!-- consumer-tsconfig -->` in docs/getting-started.md is the tsconfig the
//   consumer type-check uses.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { root } from "./workspace.mjs";

export const FRAGMENT = "<!-- fragment -->";
export const RUN = "<!-- run -->";
export const CONSUMER_TSCONFIG = "<!-- consumer-tsconfig -->";

const SCRIPT_LANGUAGES = new Map([
  ["ts", "ts"],
  ["typescript", "ts"],
  ["js", "js"],
  ["javascript", "js"],
]);
const SHELL_LANGUAGES = new Set(["sh", "bash", "shell", "console"]);

const markdownUnder = (dir) =>
  existsSync(dir)
    ? readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
        entry.isDirectory()
          ? markdownUnder(join(dir, entry.name))
          : entry.name.endsWith(".md")
            ? [join(dir, entry.name)]
            : [],
      )
    : [];

/** The documentation files whose examples are checked. */
export const documentationFiles = () => [
  ...["packages", "apps"].flatMap((group) =>
    readdirSync(join(root, group))
      .map((name) => join(root, group, name, "README.md"))
      .filter((file) => existsSync(file)),
  ),
  ...markdownUnder(join(root, "docs")).sort(),
];

/** Every fenced block of a markdown text: `{ line, language, code, marker }` (line is 1-based). */
export const fencedBlocks = (text) => {
  const lines = text.split("\n");
  const blocks = [];
  for (let index = 0; index < lines.length; index++) {
    const open = /^(\s*)(`{3,}|~{3,})\s*([\w-]*)/.exec(lines[index]);
    if (open === null) continue;
    const [, indent, fence, language] = open;
    let end = index + 1;
    while (end < lines.length && !lines[end].trimStart().startsWith(fence)) end++;
    let previous = index - 1;
    while (previous >= 0 && lines[previous].trim() === "") previous--;
    blocks.push({
      line: index + 1,
      language: language.toLowerCase(),
      code: lines
        .slice(index + 1, end)
        .map((line) => (line.startsWith(indent) ? line.slice(indent.length) : line))
        .join("\n"),
      marker: previous >= 0 ? lines[previous].trim() : "",
    });
    index = end;
  }
  return blocks;
};

/**
 * Every example of the documentation: `{ file, line, kind, language, code, fragment, slug }`, with
 * kind "script" (ts/js, runs unless marked as a fragment) or "shell" (runs when marked to run).
 */
export const collectExamples = () =>
  documentationFiles().flatMap((path) => {
    const file = relative(root, path);
    return fencedBlocks(readFileSync(path, "utf8")).flatMap((block) => {
      const slug = `${file.replace(/\.md$/, "").replace(/[^\w]+/g, "-")}-${block.line}`;
      const scriptLanguage = SCRIPT_LANGUAGES.get(block.language);
      if (scriptLanguage !== undefined)
        return [
          {
            file,
            line: block.line,
            kind: "script",
            language: scriptLanguage,
            code: block.code,
            fragment: block.marker === FRAGMENT,
            slug,
          },
        ];
      if (SHELL_LANGUAGES.has(block.language))
        return [
          {
            file,
            line: block.line,
            kind: "shell",
            language: "sh",
            code: block.code,
            fragment: block.marker !== RUN,
            slug,
          },
        ];
      return [];
    });
  });

/** The compiler options of the documented consumer tsconfig (docs/getting-started.md). */
export const consumerTsconfig = () => {
  const file = join(root, "docs", "getting-started.md");
  const block = fencedBlocks(readFileSync(file, "utf8")).find((entry) => entry.marker === CONSUMER_TSCONFIG);
  if (block === undefined)
    throw new Error(`${relative(root, file)}: no json block after ${CONSUMER_TSCONFIG}`);
  return JSON.parse(block.code);
};

/** The first fenced block of a package README (its install line), or undefined. */
export const installLine = (readme) => {
  const block = fencedBlocks(readme)[0];
  return block !== undefined && SHELL_LANGUAGES.has(block.language)
    ? block.code.split("\n")[0].trim()
    : undefined;
};
