/** A problem in the knowledge files under cds-services/: always names the file and the field. */
export class KnowledgeError extends Error {
  constructor(readonly problems: { file: string; field: string; message: string }[]) {
    super(
      `Invalid knowledge in cds-services:\n${problems.map((p) => `  - ${p.file}: ${p.field ? `${p.field}: ` : ''}${p.message}`).join('\n')}`,
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
