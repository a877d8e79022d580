// Settings → Widget: the one script tag that puts the chat on a site, a Copy button, and a live
// preview of the widget on a page of this server.

import { useEffect, useRef, useState } from 'react';
import { inboxApi } from '../api';
import { useStatus } from './useStatus';

/** The tag to paste into a site's pages. */
export function widgetSnippet(origin: string, widgetKey: string): string {
  return `<script src="${origin}/widget.js" data-widget-key="${widgetKey}" async></script>`;
}

export function WidgetInstall() {
  const [widgetKey, setWidgetKey] = useState<string | null>(null);
  const snippetRef = useRef<HTMLPreElement>(null);
  const s = useStatus();
  useEffect(() => {
    inboxApi.workspace().then((w) => setWidgetKey(w.widget_key ?? '')).catch(s.fail);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);
  if (widgetKey === null) return <section><h1>Widget</h1>{s.view ?? <p className="muted">Loading…</p>}</section>;
  const snippet = widgetSnippet(location.origin, widgetKey);
  const selectSnippet = () => {
    const pre = snippetRef.current;
    const selection = window.getSelection();
    if (!pre || !selection) return;
    selection.selectAllChildren(pre);
  };
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(snippet);
      s.ok('Copied. Paste it into your site’s pages, just before </body>.');
    } catch {
      selectSnippet();
      s.fail(new Error('The browser did not let the page copy: the tag is selected, press Ctrl+C (⌘C on a Mac).'));
    }
  };
  return (
    <section className="form" data-testid="widget-install">
      <h1>Widget</h1>
      <p>Put the chat on your site: paste this tag into every page that should show it (before <code>&lt;/body&gt;</code>).</p>
      <pre className="code" data-testid="widget-snippet" ref={snippetRef}>{snippet}</pre>
      <div className="row">
        <button className="primary" onClick={() => void copy()}>Copy</button>
        <a href={`/app/widget-preview.html?key=${encodeURIComponent(widgetKey)}`} target="_blank" rel="noopener noreferrer">
          Open a live preview
        </a>
      </div>
      {s.view}
      <p className="small muted">
        The launcher shows only while a flow is live. Conversations started in the preview are real: they reach the inbox. Optional
        attributes on the tag: <code>data-title</code> (the window&apos;s title), <code>data-color</code> (a hex colour),{' '}
        <code>data-flow-id</code> (start this live flow instead of entry routing).
      </p>
    </section>
  );
}
