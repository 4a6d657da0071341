/** A problem in the knowledge files (CDS_SERVICES_DIR): always names the file and the field. */
export class KnowledgeError extends Error {
  constructor(
    readonly problems: { file: string; field: string; message: string }[],
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

  /**
   * Collect the problems of several loaders so they are reported together: `attempt(load)` returns the result,
   * or undefined after recording a KnowledgeError's problems (any other error propagates).
   */
  static collector(): { problems: KnowledgeError['problems']; attempt<T>(load: () => T): T | undefined } {
    const problems: KnowledgeError['problems'] = [];
    return {
      problems,
      attempt<T>(load: () => T): T | undefined {
        try {
          return load();
        } catch (e) {
          if (!(e instanceof KnowledgeError)) throw e;
          problems.push(...e.problems);
          return undefined;
        }
      },
    };
  }
}
