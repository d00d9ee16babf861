/**
 * A strict reader of the XML our SVG pictures are made of, for tests: elements, quoted attributes,
 * text, the five predefined entities and numeric ones, comments. Anything else — an unclosed or
 * mismatched tag, a bare `&` or `<`, a duplicated attribute, text after the root — throws.
 */

export interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  /** The element's own text (not its descendants'), entities decoded. */
  text: string;
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
const NAME = /^[A-Za-z_][\w.:-]*/;

function decode(s: string, at: number): string {
  if (s.includes('<')) throw new Error(`XML: a bare '<' near offset ${at}`);
  return s.replace(/&([^;]*);?/g, (whole, e: string) => {
    if (!whole.endsWith(';')) throw new Error(`XML: a bare '&' near offset ${at}`);
    if (e.startsWith('#x')) return String.fromCodePoint(Number.parseInt(e.slice(2), 16));
    if (e.startsWith('#')) return String.fromCodePoint(Number.parseInt(e.slice(1), 10));
    const v = ENTITIES[e];
    if (v === undefined) throw new Error(`XML: unknown entity &${e}; near offset ${at}`);
    return v;
  });
}

/** Parses `xml` (one root element, an optional `<?xml …?>` declaration) into its element tree. */
export function parseXml(xml: string): XmlElement {
  let i = 0;
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  const skipSpace = () => {
    while (i < xml.length && /\s/.test(xml[i]!)) i++;
  };
  if (xml.startsWith('<?xml')) i = xml.indexOf('?>') + 2;
  for (;;) {
    const lt = xml.indexOf('<', i);
    const chunk = xml.slice(i, lt < 0 ? xml.length : lt);
    if (stack.length) stack[stack.length - 1]!.text += decode(chunk, i);
    else if (chunk.trim()) throw new Error(`XML: text outside the root element at offset ${i}`);
    if (lt < 0) break;
    i = lt;
    if (xml.startsWith('<!--', i)) {
      const end = xml.indexOf('-->', i);
      if (end < 0) throw new Error('XML: an unclosed comment');
      i = end + 3;
      continue;
    }
    if (xml.startsWith('</', i)) {
      const name = NAME.exec(xml.slice(i + 2))?.[0];
      const open = stack.pop();
      if (!name || !open || open.name !== name)
        throw new Error(`XML: </${name}> at offset ${i} closes <${open?.name ?? 'nothing'}>`);
      i += 2 + name.length;
      skipSpace();
      if (xml[i] !== '>') throw new Error(`XML: expected '>' at offset ${i}`);
      i++;
      continue;
    }
    const name = NAME.exec(xml.slice(i + 1))?.[0];
    if (!name) throw new Error(`XML: a bare '<' at offset ${i}`);
    if (!stack.length && root) throw new Error(`XML: a second root element <${name}> at offset ${i}`);
    const el: XmlElement = { name, attrs: {}, children: [], text: '' };
    i += 1 + name.length;
    for (;;) {
      const before = i;
      skipSpace();
      if (xml.startsWith('/>', i) || xml[i] === '>') break;
      if (i === before) throw new Error(`XML: expected a space before an attribute at offset ${i}`);
      const m = /^([A-Za-z_][\w.:-]*)="([^"]*)"/.exec(xml.slice(i));
      if (!m) throw new Error(`XML: a malformed attribute at offset ${i} in <${name}>`);
      if (m[1]! in el.attrs) throw new Error(`XML: attribute ${m[1]} twice in <${name}>`);
      el.attrs[m[1]!] = decode(m[2]!, i);
      i += m[0].length;
    }
    if (stack.length) stack[stack.length - 1]!.children.push(el);
    else root = el;
    if (xml.startsWith('/>', i)) i += 2;
    else {
      i++;
      stack.push(el);
    }
  }
  if (stack.length) throw new Error(`XML: <${stack[stack.length - 1]!.name}> is never closed`);
  if (!root) throw new Error('XML: no root element');
  return root;
}

/** Every element under `root` (itself included), depth first, that `match` accepts. */
export function findAll(root: XmlElement, match: (e: XmlElement) => boolean): XmlElement[] {
  const found: XmlElement[] = [];
  const walk = (e: XmlElement) => {
    if (match(e)) found.push(e);
    for (const c of e.children) walk(c);
  };
  walk(root);
  return found;
}

/** All the text under `root`, in document order, joined by spaces. */
export function allText(root: XmlElement): string {
  return [root.text, ...root.children.map(allText)].filter((s) => s.trim()).join(' ');
}
