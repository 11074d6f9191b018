// Every relative link in README.md and docs/**/*.md must point to a file that exists and, with a #fragment, to a heading of that file.
// Usage: node scripts/check-doc-links.mjs (exit code 1 and one line per broken link when any is broken).
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { fromMarkdown } from 'mdast-util-from-markdown';
import { toString } from 'mdast-util-to-string';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function markdownFiles() {
  const files = [path.join(root, 'README.md')];
  const walk = (directory) => {
    for (const entry of readdirSync(directory, { withFileTypes: true })) {
      const full = path.join(directory, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith('.md')) files.push(full);
    }
  };
  if (existsSync(path.join(root, 'docs'))) walk(path.join(root, 'docs'));
  return files;
}

function nodesOfType(tree, types) {
  const found = [];
  const visit = (node) => {
    if (types.includes(node.type)) found.push(node);
    for (const child of node.children ?? []) visit(child);
  };
  visit(tree);
  return found;
}

// GitHub's heading anchors: lower case, punctuation dropped, each space a hyphen, repeats numbered -1, -2, …
function headingAnchors(tree) {
  const anchors = new Set();
  const seen = new Map();
  for (const heading of nodesOfType(tree, ['heading'])) {
    const base = toString(heading)
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\p{M}\p{Pc} -]/gu, '')
      .replace(/ /g, '-');
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    anchors.add(count === 0 ? base : `${base}-${count}`);
  }
  return anchors;
}

const trees = new Map();
function treeOf(file) {
  if (!trees.has(file)) trees.set(file, fromMarkdown(readFileSync(file, 'utf8')));
  return trees.get(file);
}

const broken = [];
for (const file of markdownFiles()) {
  for (const link of nodesOfType(treeOf(file), ['link', 'image', 'definition'])) {
    const url = link.url;
    if (/^[a-z][a-z0-9+.-]*:/i.test(url) || url.startsWith('//')) continue;
    const [target, fragment] = url.split('#', 2);
    const targetFile = target === '' ? file : path.resolve(path.dirname(file), decodeURIComponent(target));
    const where = `${path.relative(root, file)}:${link.position?.start.line ?? '?'}`;
    if (!existsSync(targetFile)) {
      broken.push(`${where}: ${url}: no such file`);
      continue;
    }
    if (fragment === undefined || fragment === '') continue;
    if (statSync(targetFile).isDirectory() || !targetFile.endsWith('.md')) {
      broken.push(`${where}: ${url}: a fragment on a file that is not markdown`);
      continue;
    }
    if (!headingAnchors(treeOf(targetFile)).has(decodeURIComponent(fragment))) broken.push(`${where}: ${url}: no heading with that anchor`);
  }
}

if (broken.length > 0) {
  console.error(`${broken.length} broken link(s):\n${broken.join('\n')}`);
  process.exit(1);
}
console.log('every relative link in README.md and docs/ resolves');
