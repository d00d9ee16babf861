/**
 * Just enough of the DOM for view.ts, to run the page's drawing in Node (test helper): elements with
 * attributes, children, text and a progress bar's value; `getElementById` for the ids index.html has.
 * Real Chromium runs the page itself in chromium.test.ts.
 */
export class FakeElement {
  readonly attributes = new Map<string, string>();
  readonly children: FakeElement[] = [];
  value = 0;
  innerHTML = '';
  #text = '';
  constructor(readonly tagName: string) {}
  setAttribute(name: string, value: string): void {
    this.attributes.set(name, value);
    if (name === 'value') this.value = Number(value);
  }
  getAttribute(name: string): string | null {
    return this.attributes.get(name) ?? null;
  }
  append(...nodes: FakeElement[]): void {
    this.children.push(...nodes);
  }
  replaceChildren(): void {
    this.children.length = 0;
  }
  get textContent(): string {
    return this.#text + this.children.map((c) => c.textContent).join('');
  }
  set textContent(text: string) {
    this.children.length = 0;
    this.#text = text;
  }
  /** Every descendant whose tag and (if given) class match. */
  all(tag: string, className?: string): FakeElement[] {
    const found: FakeElement[] = [];
    for (const c of this.children) {
      if (c.tagName === tag && (className === undefined || c.getAttribute('class') === className))
        found.push(c);
      found.push(...c.all(tag, className));
    }
    return found;
  }
}

export function fakeDocument(ids: readonly string[] = ['plan', 'boards', 'story', 'rate', 'log']) {
  const byId = new Map(ids.map((id) => [id, new FakeElement('div')]));
  const doc = {
    getElementById: (id: string) => byId.get(id) ?? null,
    createElement: (tag: string) => new FakeElement(tag),
  };
  return { doc: doc as unknown as Document, byId: (id: string) => byId.get(id)! };
}
