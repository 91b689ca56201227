// Escaping for text put into HTML pages, plotly's pseudo-HTML labels and inline <script> JSON.

/** Text for plotly labels and titles: &, <, > escaped (plotly decodes no &quot;, so quotes stay). */
export function escapeMarkup(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Text for an HTML page, element content or attribute value: &, <, > and " escaped. */
export function escapeHtml(s: string): string {
  return escapeMarkup(s).replace(/"/g, '&quot;');
}

/** JSON safe to inline in a <script>: no "</script>" or "<!--" can close or confuse it. */
export function scriptJson(v: unknown): string {
  return JSON.stringify(v)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}
