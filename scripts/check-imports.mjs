// The import check (issue 14): the flow of src/ goes one way.
// Fails (exit 1) on
//   - an import cycle between src/ folders (a top-level file such as src/cli.ts counts as its own folder),
//   - an import cycle between files,
//   - an import of src/http/ from anywhere in src/ but src/http/, src/app.ts and src/server.ts.
// Type-only imports count (`import type`, `export type … from`, `import('…')` types): a type edge is still an edge.
// Usage: node scripts/check-imports.mjs [root] [--graph]   (root defaults to the project; it must hold src/)
//   --graph prints the folder import graph as JSON ({folder: [folders it imports]}) instead of checking.
import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

/** Edges allowed for now, each with its reason; empty when the code is one-way. Format: 'from-file -> to-file'. */
export const ALLOWED = new Set([]);

const HTTP_IMPORTERS = new Set(['http', 'app.ts', 'server.ts']);

function listSources(dir) {
  const out = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...listSources(full));
    else if (/\.(ts|mts|js|mjs)$/.test(entry.name) && !entry.name.endsWith('.d.ts')) out.push(full);
  }
  return out;
}

/** Every module specifier of a file: static imports/exports (type-only too), dynamic import(), import('x') types. */
function specifiers(file) {
  const text = fs.readFileSync(file, 'utf8');
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const found = [];
  const visit = (node) => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      found.push(node.moduleSpecifier.text);
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) {
      const e = node.moduleReference.expression;
      if (ts.isStringLiteral(e)) found.push(e.text);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const [arg] = node.arguments;
      if (arg && ts.isStringLiteralLike(arg)) found.push(arg.text);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
      found.push(node.argument.literal.text);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

function resolve(fromFile, spec, known) {
  if (!spec.startsWith('.')) return undefined;
  const base = path.resolve(path.dirname(fromFile), spec);
  const candidates = [base, base.replace(/\.js$/, '.ts'), base.replace(/\.mjs$/, '.mts'), `${base}.ts`, path.join(base, 'index.ts')];
  return candidates.find((c) => known.has(c));
}

/** Tarjan: strongly connected components with more than one node. */
function cycles(graph) {
  let index = 0;
  const idx = new Map(), low = new Map(), stack = [], onStack = new Set(), out = [];
  const strong = (v) => {
    idx.set(v, index); low.set(v, index); index++;
    stack.push(v); onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!idx.has(w)) { strong(w); low.set(v, Math.min(low.get(v), low.get(w))); }
      else if (onStack.has(w)) low.set(v, Math.min(low.get(v), idx.get(w)));
    }
    if (low.get(v) === idx.get(v)) {
      const component = [];
      let w;
      do { w = stack.pop(); onStack.delete(w); component.push(w); } while (w !== v);
      if (component.length > 1) out.push(component.sort());
    }
  };
  for (const v of [...graph.keys()].sort()) if (!idx.has(v)) strong(v);
  return out;
}

export function checkImports(root, allowed = ALLOWED) {
  const src = path.join(root, 'src');
  const files = listSources(src);
  const known = new Set(files);
  const rel = (f) => path.relative(src, f).split(path.sep).join('/');
  const folderOf = (f) => rel(f).split('/')[0];
  const fileGraph = new Map(), folderGraph = new Map(), folderEdges = new Map();
  const problems = [];
  for (const file of files) {
    const from = rel(file);
    fileGraph.set(from, new Set());
    if (!folderGraph.has(folderOf(file))) folderGraph.set(folderOf(file), new Set());
    for (const spec of specifiers(file)) {
      const target = resolve(file, spec, known);
      if (!target) continue;
      const to = rel(target);
      if (allowed.has(`${from} -> ${to}`)) continue;
      fileGraph.get(from).add(to);
      const a = folderOf(file), b = folderOf(target);
      if (a !== b) {
        folderGraph.get(a).add(b);
        const key = `${a} -> ${b}`;
        if (!folderEdges.has(key)) folderEdges.set(key, []);
        folderEdges.get(key).push(`${from} -> ${to}`);
      }
      if (b === 'http' && !HTTP_IMPORTERS.has(a)) problems.push(`src/${from} imports src/${to}: only src/http/, src/app.ts and src/server.ts may import src/http/`);
    }
  }
  for (const component of cycles(folderGraph)) {
    const members = new Set(component);
    const edges = [...folderEdges.entries()]
      .filter(([key]) => { const [a, b] = key.split(' -> '); return members.has(a) && members.has(b); })
      .flatMap(([, list]) => list);
    problems.push(`folder cycle: ${component.join(', ')}\n    edges inside it:\n      ${edges.join('\n      ')}`);
  }
  for (const component of cycles(fileGraph)) problems.push(`file cycle: ${component.join(', ')}`);
  const graph = Object.fromEntries([...folderGraph.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, [...v].sort()]));
  return { problems, files: files.length, graph };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const positional = process.argv.slice(2).filter((a) => !a.startsWith('--'));
  const root = path.resolve(positional[0] ?? path.join(path.dirname(new URL(import.meta.url).pathname), '..'));
  const { problems, files, graph } = checkImports(root);
  if (process.argv.includes('--graph')) {
    console.log(JSON.stringify(graph, null, 2));
    process.exit(0);
  }
  if (problems.length > 0) {
    console.error(`import check: ${problems.length} problem(s) in ${files} files under ${path.join(root, 'src')}`);
    for (const p of problems) console.error(`  - ${p}`);
    process.exit(1);
  }
  console.log(`import check: ${files} files, no folder or file cycle, src/http/ imported only by http, app.ts and server.ts`);
}
