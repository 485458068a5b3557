/**
 * The site's one stylesheet, served from /static/site.css (the Content-Security-Policy allows no
 * inline styles). Colours meet WCAG AA contrast on both themes; focus is always visible.
 */
export const SITE_CSS = `
:root { color-scheme: light dark; --bg: #f6f6f8; --card: #fff; --text: #1b1c1f; --muted: #555a64;
  --accent: #4451d6; --accent-text: #fff; --line: #d5d7de; --bad: #b3261e; --good: #1d6b37; }
@media (prefers-color-scheme: dark) { :root { --bg: #151619; --card: #1f2126; --text: #eceef2;
  --muted: #b4b8c2; --accent: #8c97ff; --accent-text: #10121a; --line: #3a3d45; --bad: #ff9a93; --good: #7fd69a; } }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; background: var(--bg); color: var(--text); }
a { color: var(--accent); }
a:focus-visible, button:focus-visible, input:focus-visible, select:focus-visible, audio:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
.top { display: flex; justify-content: space-between; align-items: center; gap: 1rem; padding: .75rem 1rem; background: var(--card); border-bottom: 1px solid var(--line); flex-wrap: wrap; }
.brand { font-weight: 700; text-decoration: none; color: var(--text); font-size: 1.1rem; }
.signout { display: flex; gap: .5rem; align-items: center; margin: 0; }
.who { color: var(--muted); }
button, .button { font: inherit; background: var(--accent); color: var(--accent-text); border: 0; border-radius: 6px; padding: .45rem .9rem; cursor: pointer; text-decoration: none; display: inline-block; }
button.quiet { background: transparent; color: var(--accent); border: 1px solid var(--line); }
main { max-width: 960px; margin: 0 auto; padding: 1rem; }
h1 { font-size: 1.5rem; margin: .5rem 0 1rem; overflow-wrap: anywhere; }
.tabs { display: flex; gap: .25rem; padding: 0 1rem; max-width: 960px; margin: .5rem auto 0; flex-wrap: wrap; }
.tabs a { padding: .4rem .8rem; border-radius: 6px; text-decoration: none; }
.tabs a[aria-current="page"] { background: var(--accent); color: var(--accent-text); }
.cards { list-style: none; padding: 0; margin: 0; display: grid; gap: 1rem; grid-template-columns: repeat(auto-fill, minmax(min(100%, 420px), 1fr)); }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 1rem; display: flex; flex-direction: column; gap: .5rem; min-width: 0; }
.card h2 { font-size: 1.1rem; margin: 0; }
.prompt { margin: 0; white-space: pre-wrap; overflow-wrap: anywhere; }
.meta { color: var(--muted); font-size: .9rem; margin: 0; }
.wave { width: 100%; height: auto; border-radius: 6px; display: block; }
audio { width: 100%; }
.filter { display: flex; gap: .5rem; align-items: end; flex-wrap: wrap; margin-bottom: 1rem; }
label { display: block; font-weight: 600; }
input, select { font: inherit; padding: .4rem; border: 1px solid var(--line); border-radius: 6px; background: var(--card); color: var(--text); max-width: 100%; }
.pager { display: flex; justify-content: space-between; align-items: center; margin: 1rem 0; gap: 1rem; }
.tree, .tree ul { list-style: none; margin: 0; padding-left: 1.25rem; border-left: 2px solid var(--line); }
.tree { padding-left: .75rem; }
.tree li { margin: .5rem 0; position: relative; }
.tree li::before { content: ""; position: absolute; left: -1.25rem; top: .8rem; width: 1rem; border-top: 2px solid var(--line); }
.tree > li::before { display: none; }
.node { display: inline-block; padding: .3rem .6rem; border: 1px solid var(--line); border-radius: 6px; background: var(--card); overflow-wrap: anywhere; }
.node[aria-current="true"] { border-color: var(--accent); border-width: 2px; }
.settings { display: grid; gap: 1rem; grid-template-columns: repeat(auto-fill, minmax(min(100%, 260px), 1fr)); }
.hint { color: var(--muted); font-size: .85rem; margin: .2rem 0 0; }
.notice { padding: .75rem 1rem; border-radius: 8px; border: 1px solid var(--line); background: var(--card); }
.notice.bad { border-color: var(--bad); color: var(--bad); }
.notice.good { border-color: var(--good); color: var(--good); }
.words { list-style: none; padding: 0; display: flex; flex-wrap: wrap; gap: .5rem; }
.words li { display: flex; gap: .25rem; align-items: center; background: var(--card); border: 1px solid var(--line); border-radius: 6px; padding: .2rem .2rem .2rem .6rem; }
.words form { margin: 0; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .35rem .5rem; border-bottom: 1px solid var(--line); }
.chart { width: 100%; height: auto; background: var(--card); border: 1px solid var(--line); border-radius: 8px; }
.chart rect { fill: var(--accent); }
.chart text { fill: var(--muted); font-size: 10px; }
.sr-only { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
`;
