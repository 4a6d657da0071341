/**
 * The evidence pages' stylesheet, served as a file (GET /evidence/evidence.css) so the Content-Security-Policy
 * can forbid inline styles and scripts. Kept in TypeScript so the build ships it without a copy step.
 */
export const EVIDENCE_CSS = `/* ldn-cds evidence pages */
:root {
  color-scheme: light dark;
  --fg: #1b1f24;
  --muted: #4a5562;
  --bg: #ffffff;
  --panel: #f4f6f8;
  --line: #d0d7de;
  --link: #0b5cad;
  --info: #0b5cad;
  --warning: #8a5300;
  --critical: #b3261e;
  --notice-bg: #fff8e5;
  --notice-line: #d9a400;
}
@media (prefers-color-scheme: dark) {
  :root {
    --fg: #e6e9ed;
    --muted: #aab4bf;
    --bg: #15181c;
    --panel: #1f242a;
    --line: #39414a;
    --link: #79b8ff;
    --info: #79b8ff;
    --warning: #f0b44c;
    --critical: #ff8a80;
    --notice-bg: #2b2512;
    --notice-line: #a27b00;
  }
}
*, *::before, *::after { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; text-size-adjust: 100%; }
body {
  margin: 0;
  font: 1rem/1.55 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  color: var(--fg);
  background: var(--bg);
  overflow-wrap: anywhere;
}
a { color: var(--link); }
a:focus-visible, summary:focus-visible { outline: 3px solid var(--link); outline-offset: 2px; }
.skip { position: absolute; left: -999px; top: 0; background: var(--bg); padding: .5rem 1rem; }
.skip:focus { left: .5rem; z-index: 1; }
header, main, footer { max-width: 52rem; margin: 0 auto; padding: 0 1rem; }
header { padding-top: 1rem; border-bottom: 1px solid var(--line); }
header p { margin: 0 0 .25rem; color: var(--muted); font-size: .95rem; }
header nav { padding-bottom: .75rem; }
main { padding-bottom: 2rem; }
h1 { font-size: 1.6rem; line-height: 1.25; margin: 1.25rem 0 .75rem; }
h2 { font-size: 1.3rem; margin: 2rem 0 .75rem; padding-top: .5rem; border-top: 1px solid var(--line); }
h3 { font-size: 1.1rem; margin: 1.25rem 0 .5rem; }
p, ul, ol, dl, blockquote { margin: 0 0 .9rem; }
ul, ol { padding-left: 1.4rem; }
dl.facts { display: grid; grid-template-columns: minmax(7rem, max-content) 1fr; gap: .35rem 1rem; }
dl.facts dt { font-weight: 600; color: var(--muted); }
dl.facts dd { margin: 0; }
@media (max-width: 32rem) {
  dl.facts { grid-template-columns: 1fr; gap: .1rem; }
  dl.facts dd { margin-bottom: .5rem; }
  h1 { font-size: 1.35rem; }
}
.badge {
  display: inline-block;
  padding: 0 .5rem;
  border: 1px solid currentColor;
  border-radius: .75rem;
  font-size: .85rem;
  font-weight: 600;
  text-transform: uppercase;
  letter-spacing: .03em;
}
.badge.info { color: var(--info); }
.badge.warning { color: var(--warning); }
.badge.critical { color: var(--critical); }
.notice {
  background: var(--notice-bg);
  border-left: 4px solid var(--notice-line);
  padding: .75rem 1rem;
}
.notice p:last-child { margin-bottom: 0; }
.entry, .rule {
  background: var(--panel);
  border: 1px solid var(--line);
  border-radius: .5rem;
  padding: .25rem 1rem .5rem;
  margin: 0 0 1rem;
}
.entry h3, .rule h3 { margin-top: .75rem; }
blockquote { margin-left: 0; padding-left: 1rem; border-left: 3px solid var(--line); font-style: italic; }
table { border-collapse: collapse; width: 100%; margin: 0 0 1rem; }
th, td { text-align: left; padding: .35rem .5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: .92em; }
.muted { color: var(--muted); }
footer { border-top: 1px solid var(--line); padding-top: 1rem; padding-bottom: 2rem; font-size: .95rem; }
`;
