/**
 * Turns docs/guide.md into the shell script a reader would type: every
 * ```sh block verbatim, in order, and every ```ts block that names a file
 * (```ts main.ts) written to that file at its place in the story. Blocks
 * without a file name are fragments and are not run.
 */

export interface GuideStep {
  kind: "shell" | "file";
  /** The guide's line where the block starts (1-based), for failure messages. */
  line: number;
  text: string;
  file?: string;
}

const FENCE = /^```(\S*)\s*(\S*)\s*$/;

export function guideSteps(markdown: string): GuideStep[] {
  const steps: GuideStep[] = [];
  const lines = markdown.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const open = FENCE.exec(lines[i]);
    if (!open || open[1] === "") continue;
    const body: string[] = [];
    let j = i + 1;
    while (j < lines.length && !/^```\s*$/.test(lines[j])) body.push(lines[j++]);
    if (j === lines.length) throw new Error(`docs/guide.md line ${i + 1}: a code block is never closed`);
    const [, language, file] = open;
    if (language === "sh") steps.push({ kind: "shell", line: i + 1, text: body.join("\n") });
    else if (file) steps.push({ kind: "file", line: i + 1, text: body.join("\n") + "\n", file });
    i = j;
  }
  return steps;
}

/**
 * One bash script for the whole guide (cwd and exports carry from block to
 * block, as in a terminal). `replace` maps a word of the guide to what the
 * test uses instead (the packed tarball for the package name).
 */
export function guideScript(steps: GuideStep[], replace: Record<string, string> = {}): string {
  const out = ["set -euo pipefail", 'trap \'echo "guide: failed at docs/guide.md line $GUIDE_LINE" >&2\' ERR'];
  for (const step of steps) {
    out.push(`GUIDE_LINE=${step.line}`, `echo "== docs/guide.md line ${step.line}" >&2`);
    if (step.kind === "file") {
      out.push(`cat > ${step.file} <<'POSTSCALE_GUIDE_EOF'`, step.text.replace(/\n$/, ""), "POSTSCALE_GUIDE_EOF");
      continue;
    }
    let text = step.text;
    for (const [from, to] of Object.entries(replace)) text = text.split(from).join(to);
    out.push(text);
  }
  return out.join("\n") + "\n";
}
