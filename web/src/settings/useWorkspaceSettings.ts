// The workspace settings for a settings section: read once, edited in place, saved whole (the
// API's PUT replaces them), with the section's status line telling how it went.

import { useEffect, useState } from 'react';
import { inboxApi } from '../api';
import type { useStatus } from './useStatus';

export type WorkspaceSettings = Record<string, unknown>;

export function useWorkspaceSettings(status: ReturnType<typeof useStatus>) {
  const [settings, setSettings] = useState<WorkspaceSettings | null>(null);
  useEffect(() => {
    inboxApi
      .workspace()
      .then((w) => setSettings((w.settings ?? {}) as WorkspaceSettings))
      .catch(status.fail);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);
  const save = async () => {
    if (!settings) return;
    try {
      setSettings((await inboxApi.saveSettings(settings)) as WorkspaceSettings);
      status.ok('Saved.');
    } catch (e) {
      status.fail(e);
    }
  };
  return { settings, setSettings, save };
}
