/**
 * Paths into an event envelope (`data.contact.name`, `data.media[0].url`) and `{{path}}`
 * templates. A path that does not resolve yields undefined; a template renders it as "".
 */
const pathPattern = /^[A-Za-z_$][\w$-]*(\[\d+\]|\.[A-Za-z_$][\w$-]*|\.\d+)*$/;
const tokenPattern = /\{\{\s*([^{}]*?)\s*\}\}/g;

export function isValidPath(path: string): boolean {
  return path.length <= 500 && pathPattern.test(path);
}

export function resolvePath(root: unknown, path: string): unknown {
  let current: unknown = root;
  for (const segment of path.replace(/\[(\d+)\]/g, '.$1').split('.')) {
    // Own fields only: `data.constructor` or `data.__proto__` is not in the event, so it does not resolve.
    if (current === null || typeof current !== 'object' || !Object.hasOwn(current, segment)) return undefined;
    current = (current as Record<string, unknown>)[segment];
  }
  return current;
}

/** A value as text: strings as they are, other JSON values as JSON, nothing as "". */
export function valueAsText(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

/** Problems in a template: unbalanced braces or tokens that are not paths. Empty when fine. */
export function templateProblems(template: string): string[] {
  const problems: string[] = [];
  for (const match of template.matchAll(tokenPattern)) {
    if (!isValidPath(match[1]!)) problems.push(`"{{${match[1]}}}" is not a path such as data.contact.name`);
  }
  const rest = template.replace(tokenPattern, '');
  if (rest.includes('{{') || rest.includes('}}')) problems.push('has an unclosed "{{" or a stray "}}"');
  return problems;
}

export function hasTokens(template: string): boolean {
  return template.includes('{{');
}

export function renderTemplate(template: string, root: unknown, encode: (text: string) => string = (text) => text): string {
  if (!hasTokens(template)) return template;
  return template.replace(tokenPattern, (_token, path: string) => encode(valueAsText(resolvePath(root, path))));
}
