import { ReactFlowProvider } from '@xyflow/react';
import { useEffect, useState } from 'react';
import { api, errorText, type FlowDetail, type Member } from '../api';
import { Editor } from '../builder/Editor';
import { navigate } from '../router';
import { TopBar } from './TopBar';

/** The builder page: loads the flow, then hands it to the editor. */
export function Builder({ flowId, member }: { flowId: string; member: Member }) {
  const [detail, setDetail] = useState<FlowDetail | null>(null);
  const [error, setError] = useState<string | null>(null);
  // Bumped to load the flow again (after a rollback replaces the draft).
  const [generation, setGeneration] = useState(0);
  const [notice, setNotice] = useState<string | undefined>(undefined);

  useEffect(() => {
    let cancelled = false;
    api
      .flow(flowId)
      .then((d) => !cancelled && setDetail(d))
      .catch((e) => !cancelled && setError(errorText(e)));
    return () => {
      cancelled = true;
    };
  }, [flowId, generation]);

  if (error) {
    return (
      <div className="app-page">
        <TopBar member={member} />
        <main className="page">
          <div className="banner banner-error" role="alert">
            {error}
          </div>
          <button onClick={() => navigate({ page: 'flows' })}>Back to the flows</button>
        </main>
      </div>
    );
  }
  if (!detail) return <div className="loading">Loading the flow…</div>;
  return (
    <ReactFlowProvider>
      <Editor
        key={`${detail.id}-${generation}`}
        initial={detail}
        member={member}
        initialNotice={notice}
        onReload={(message) => {
          setNotice(message);
          setDetail(null);
          setGeneration((g) => g + 1);
        }}
      />
    </ReactFlowProvider>
  );
}
