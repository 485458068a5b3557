/**
 * HTML by tagged template: every interpolated value is escaped unless it is already `Html` (made by
 * this tag). A template package would add a second language and a file loader for a dozen small
 * pages; this keeps pages type-checked TypeScript and makes escaping the default, not a habit.
 */
export class Html {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

type Part = Html | string | number | boolean | null | undefined | readonly Part[];

const entities: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
  '`': '&#96;',
};

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"'`]/g, (c) => entities[c] ?? c);
}

function render(part: Part): string {
  if (part === null || part === undefined || part === false) return '';
  if (part instanceof Html) return part.value;
  if (Array.isArray(part)) return (part as readonly Part[]).map(render).join('');
  return escapeHtml(String(part));
}

export function html(strings: TemplateStringsArray, ...values: Part[]): Html {
  let out = strings[0] ?? '';
  values.forEach((value, i) => {
    out += render(value) + (strings[i + 1] ?? '');
  });
  return new Html(out);
}

export interface PageOptions {
  title: string;
  /** The signed-in person, shown in the header with a sign-out button. */
  user?: { name: string } | undefined;
  csrfToken?: string | undefined;
  /** Links shown under the title for a server's pages. */
  nav?: { href: string; label: string; current: boolean }[];
  body: Html;
}

export function page(options: PageOptions): string {
  const nav = options.nav ?? [];
  return `<!doctype html>${
    html`<html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>${options.title} · Tracksmith</title>
        <link rel="stylesheet" href="/static/site.css" />
      </head>
      <body>
        <header class="top">
          <a class="brand" href="/servers">Tracksmith</a>
          ${
            options.user
              ? html`<form method="post" action="/auth/signout" class="signout">
                  <span class="who">${options.user.name}</span>
                  <input type="hidden" name="_csrf" value="${options.csrfToken ?? ''}" />
                  <button type="submit">Sign out</button>
                </form>`
              : ''
          }
        </header>
        ${
          nav.length > 0
            ? html`<nav class="tabs" aria-label="Server pages">
                ${nav.map(
                  (n) =>
                    html`<a href="${n.href}" ${n.current ? html` aria-current="page"` : ''}>${n.label}</a>`,
                )}
              </nav>`
            : ''
        }
        <main>
          <h1>${options.title}</h1>
          ${options.body}
        </main>
      </body>
    </html>`.value
  }`;
}

/** A table with one header cell per column and one row per entry; every cell is escaped as above. */
export function table(columns: readonly string[], rows: readonly (readonly Part[])[]): Html {
  return html`<table>
    <thead>
      <tr>
        ${columns.map((column) => html`<th scope="col">${column}</th>`)}
      </tr>
    </thead>
    <tbody>
      ${rows.map(
        (cells) =>
          html`<tr>
            ${cells.map((cell) => html`<td>${cell}</td>`)}
          </tr>`,
      )}
    </tbody>
  </table>`;
}
