/**
 * Problems found while reading files: the one problem type, the one collector, and the one way a zod issue is
 * written ("path: message", the path FHIRPath-style: `context.draftOrders.entry[0]`).
 */

/** One problem in a file: always names the file and the field. */
export interface KnowledgeProblem {
  file: string;
  field: string;
  message: string;
}

/** A problem in the knowledge files (CDS_SERVICES_DIR): always names the file and the field. */
export class KnowledgeError extends Error {
  constructor(
    readonly problems: KnowledgeProblem[],
    /** The knowledge folder the files are in (named in the message; loadKnowledge sets it). */
    readonly folder?: string,
  ) {
    super(
      `Invalid knowledge in ${folder ?? 'the knowledge folder'}:\n${problems.map((p) => `  - ${p.file}: ${p.field ? `${p.field}: ` : ''}${p.message}`).join('\n')}`,
    );
    this.name = 'KnowledgeError';
  }

  static one(file: string, field: string, message: string): KnowledgeError {
    return new KnowledgeError([{ file, field, message }]);
  }
}

/** Collects problems from several steps so a loader can report them all together. */
export class ProblemList {
  readonly items: KnowledgeProblem[] = [];

  add(file: string, field: string, message: string): void {
    this.items.push({ file, field, message });
  }

  /** Run `step`; a KnowledgeError it throws is recorded instead of propagated (any other error propagates). Returns undefined on failure. */
  readonly collect = <T>(step: () => T): T | undefined => {
    try {
      return step();
    } catch (e) {
      if (!(e instanceof KnowledgeError)) throw e;
      this.items.push(...e.problems);
      return undefined;
    }
  };

  throwIfAny(): void {
    if (this.items.length > 0) throw new KnowledgeError(this.items);
  }
}

/** zod path → FHIRPath-style location: ["context", "draftOrders", "entry", 0] → "context.draftOrders.entry[0]". */
export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  return path.reduce<string>(
    (out, p) => (typeof p === 'number' ? `${out}[${p}]` : out ? `${out}.${String(p)}` : String(p)),
    '',
  );
}

interface IssueLike {
  path: ReadonlyArray<PropertyKey>;
  message: string;
}

/** A zod issue as text: "path: message". */
export function issueText(issue: IssueLike): string {
  return `${formatPath(issue.path)}: ${issue.message}`;
}

/** Every issue of a zod error as a problem of `file`, its field the issue's path. */
export function zodProblems(file: string, error: { issues: ReadonlyArray<IssueLike> }): KnowledgeProblem[] {
  return error.issues.map((i) => ({ file, field: formatPath(i.path), message: i.message }));
}
