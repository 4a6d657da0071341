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
}
