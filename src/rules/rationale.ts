/**
 * A rule file's When/Then header comment, read as the rule's plain-words rationale (shown on its evidence page):
 *
 *   # When  LDN is ordered and at least one of these holds:
 *   #       - the daily dose is above the low-dose range (0.5–4.5 mg/day);
 *   #       - the sig is not at bedtime
 *   # Then  ONE info card listing the points that apply
 *   # (Above 3 mg/day: ldn-ms-spasticity-dose, warning, same concern.)
 *
 * Indented lines continue the section above them; `- ` starts a list item; a line in parentheses is a note.
 * The header is the comment block at the top of the file, before the first YAML line.
 */
import type { RuleRationale, RationaleSection } from './contract.js';
import { leadingComment } from '../knowledge/read-yaml.js';


interface Builder {
  section: { intro: string[]; items: string[] };
  /** Where continuation lines go: the intro, the last list item, or the last note. */
  target: 'intro' | 'item' | 'note';
}

/**
 * The When/Then rationale of a rule file's header, or undefined when the header has no `When` or no `Then`.
 * Text is normalised to single spaces; nothing is added or reworded.
 */
export function parseRationale(text: string): RuleRationale | undefined {
  const sections: Partial<Record<'when' | 'then', Builder['section']>> = {};
  const notes: string[] = [];
  let current: Builder | undefined;

  const append = (parts: string[], words: string): void => {
    if (parts.length === 0) parts.push(words);
    else parts[parts.length - 1] = `${parts[parts.length - 1]} ${words}`;
  };

  for (const raw of leadingComment(text)) {
    const line = raw.trim();
    if (line === '') continue;
    const heading = /^(When|Then)\b\s*(.*)$/.exec(raw);
    if (heading) {
      const key = heading[1] === 'When' ? 'when' : 'then';
      const section = { intro: [] as string[], items: [] as string[] };
      sections[key] = section;
      current = { section, target: 'intro' };
      if (heading[2]) addLine(current, heading[2].trim(), append);
      continue;
    }
    const indented = /^\s/.test(raw);
    if (!indented) {
      // A new unindented line that is not When/Then: a note (usually in parentheses) once the rationale has begun.
      if (!sections.when && !sections.then) continue;
      notes.push(line);
      current = { section: { intro: notes, items: [] }, target: 'note' };
      continue;
    }
    if (current) addLine(current, line, append);
  }

  if (!sections.when || !sections.then) return undefined;
  return {
    when: finish(sections.when),
    then: finish(sections.then),
    notes: notes.map(unparenthesise).filter(Boolean),
  };
}

function addLine(b: Builder, line: string, append: (parts: string[], words: string) => void): void {
  if (b.target !== 'note' && line.startsWith('- ')) {
    b.section.items.push(line.slice(2).trim());
    b.target = 'item';
  } else if (b.target === 'item') {
    append(b.section.items, line);
  } else {
    append(b.section.intro, line);
  }
}

const squash = (s: string): string => s.replace(/\s+/g, ' ').trim();

function finish(section: Builder['section']): RationaleSection {
  return { text: squash(section.intro.join(' ')), items: section.items.map(squash).filter(Boolean) };
}

function unparenthesise(note: string): string {
  const s = squash(note);
  return s.startsWith('(') && s.endsWith(')') ? s.slice(1, -1).trim() : s;
}
