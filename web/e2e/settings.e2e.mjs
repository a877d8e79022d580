// Browser test of the settings pages against a real `baton serve`: the knowledge base (write an
// article with a field error on the way, see it listed and previewed as text, import Markdown
// files, search, edit, delete), API keys (create, the secret shown once and copied, the key
// works, revoke), the AI provider (an OpenAI-compatible endpoint kept over a reload with its key
// stored but never shown, a failing connection test, back to offline), and what an agent sees.
//
// Same requirements as builder.e2e.mjs: Debian's chromium, a built baton; fails in CI without
// chromium.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { call, check, fail, launch, screenshotAll, screenshots, shutDown, signIn, watch } from './lib.mjs';

const AGENT = { email: 'agent.e2e@example.com', name: 'Agent E2E', password: 'agent-password-1' };

/** The browser logs a refused request (422) as a console error; it is expected there. */
function forgetRefusals(problems) {
  for (let i = problems.length - 1; i >= 0; i--) if (/status of 422/.test(problems[i])) problems.splice(i, 1);
}

async function openSection(page, label) {
  await page.getByRole('navigation', { name: 'Settings' }).getByRole('link', { name: label }).click();
}

async function main() {
  const run = await launch('e2e');
  if (!run) return;
  const { server, browser } = run;
  const filesDir = mkdtempSync(join(tmpdir(), 'baton-e2e-md-'));
  const problems = [];
  try {
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url });
    const page = await context.newPage();
    watch(page, problems, 'owner');
    await signIn(page, server.url, server.owner.email, server.owner.password);

    // ---- knowledge base: a new article ------------------------------------------------------
    // Counts are relative to what a new server already holds in the collection.
    const inHelp = async () => (await call(page, 'GET', '/api/v1/kb/articles')).body.items.filter((a) => a.collection === 'help');
    const helpBefore = (await inHelp()).length;
    await page.goto(`${server.url}/app/settings/knowledge`);
    await page.getByRole('heading', { name: 'Knowledge base' }).waitFor();
    await page.getByRole('button', { name: '+ New article' }).click();
    const editor = page.getByTestId('kb-editor');
    const field = (name) => editor.locator(`[name="${name}"]`);
    await field('title').fill('Refund policy');
    check((await field('id').inputValue()) === 'refund-policy', `the id follows the title: ${await field('id').inputValue()}`);
    await field('collection').fill('help');
    await field('markdown').fill('# Refunds\n\nYou can ask for a **refund** within 30 days. <img src=x onerror=alert(1)>\n\n- by email\n- in the chat');
    // The preview is text: a heading, a paragraph, list items; no element from the Markdown.
    const preview = page.getByTestId('kb-preview');
    await preview.getByRole('heading', { name: 'Refunds' }).waitFor();
    await preview.locator('p', { hasText: 'You can ask for a refund within 30 days.' }).waitFor();
    await preview.locator('li', { hasText: 'in the chat' }).waitFor();
    check((await preview.locator('img').count()) === 0, 'no HTML from the article in the preview');
    // A URL the server refuses: the error is next to the field.
    await field('url').fill('ftp://example.com/refunds');
    await editor.getByRole('button', { name: 'Save article' }).click();
    await editor.getByTestId('field-error-url').waitFor();
    forgetRefusals(problems);
    await field('url').fill('https://help.example.com/refunds');
    await editor.getByRole('button', { name: 'Save article' }).click();
    await page.getByRole('status').filter({ hasText: 'Saved “Refund policy”.' }).waitFor();
    check(await field('id').getAttribute('readonly') !== null, 'a saved article keeps its id');
    await page.waitForTimeout(200);
    await page.screenshot({ path: join(screenshots, 'knowledge-editor.png') });
    await editor.getByRole('button', { name: '← Articles' }).click();
    const row = (id) => page.locator(`[data-testid=kb-article][data-id="${id}"]`);
    const collectionButton = (name) => page.locator(`[data-testid=kb-collections] button[data-collection="${name}"]`);
    await row('refund-policy').getByText('Refund policy').waitFor();
    await collectionButton('help').getByText(String(helpBefore + 1), { exact: true }).waitFor();

    // ---- knowledge base: import Markdown files ----------------------------------------------
    writeFileSync(join(filesDir, 'shipping.md'), '# Shipping times\n\nParcels arrive in two to four days.\n');
    writeFileSync(join(filesDir, 'returns-faq.md'), 'Returns are free within 30 days.\n');
    await page.getByRole('button', { name: 'Import Markdown files…' }).click();
    const importPanel = page.getByTestId('kb-import');
    await importPanel.locator('[name="import-collection"]').fill('help');
    await page.getByTestId('kb-import-files').setInputFiles([join(filesDir, 'shipping.md'), join(filesDir, 'returns-faq.md')]);
    await page.getByTestId('kb-import-preview').getByText('Shipping times').waitFor();
    await importPanel.getByRole('button', { name: 'Import 2 articles' }).click();
    await page.getByRole('status').filter({ hasText: 'Imported 2 articles into “help”.' }).waitFor();
    await row('shipping').getByText('Shipping times').waitFor();
    await row('returns-faq').getByText('returns faq').waitFor();
    await collectionButton('help').getByText(String(helpBefore + 3), { exact: true }).waitFor();
    // Search by title.
    await page.getByLabel('Search articles by title').fill('SHIP');
    await row('refund-policy').waitFor({ state: 'detached' });
    await row('shipping').waitFor();
    await page.getByLabel('Search articles by title').fill('');
    await row('refund-policy').waitFor();

    // ---- knowledge base: edit one, delete another --------------------------------------------
    await row('refund-policy').getByRole('button', { name: 'Refund policy' }).click();
    await editor.waitFor();
    await page.waitForFunction(() => document.querySelector('[data-testid=kb-editor] textarea[name=markdown]')?.value.startsWith('# Refunds'));
    check((await field('url').inputValue()) === 'https://help.example.com/refunds', 'the URL is loaded');
    await field('title').fill('Refund policy (30 days)');
    check((await field('id').inputValue()) === 'refund-policy', 'editing the title keeps the id');
    await field('markdown').fill('# Refunds\n\nAsk within 30 days of delivery.');
    await editor.getByRole('button', { name: 'Save article' }).click();
    await page.getByRole('status').filter({ hasText: 'Saved “Refund policy (30 days)”.' }).waitFor();
    const stored = await call(page, 'GET', '/api/v1/kb/articles/refund-policy');
    check(
      stored.status === 200 &&
        stored.body.title === 'Refund policy (30 days)' &&
        stored.body.collection === 'help' &&
        stored.body.url === 'https://help.example.com/refunds' &&
        stored.body.markdown === '# Refunds\n\nAsk within 30 days of delivery.',
      `the edit is stored: ${JSON.stringify(stored)}`,
    );
    await editor.getByRole('button', { name: '← Articles' }).click();
    await row('refund-policy').getByText('Refund policy (30 days)').waitFor();

    await row('shipping').getByRole('button', { name: 'Shipping times' }).click();
    await editor.getByRole('button', { name: 'Delete…' }).click();
    await editor.getByText('Delete “Shipping times”? This cannot be undone.').waitFor();
    await editor.getByRole('button', { name: 'Delete article' }).click();
    await page.getByRole('status').filter({ hasText: 'Deleted “Shipping times”.' }).waitFor();
    await row('shipping').waitFor({ state: 'detached' });
    await collectionButton('help').getByText(String(helpBefore + 2), { exact: true }).waitFor();
    const left = (await inHelp()).map((a) => a.id);
    check(left.includes('refund-policy') && left.includes('returns-faq') && !left.includes('shipping'), `shipping is gone: ${JSON.stringify(left)}`);
    await page.waitForTimeout(200);
    await page.screenshot({ path: join(screenshots, 'knowledge.png') });

    // ---- API keys ----------------------------------------------------------------------------
    await openSection(page, 'API keys');
    await page.getByRole('heading', { name: 'API keys' }).waitFor();
    await page.locator('[name="key-name"]').fill('CI (e2e)');
    await page.locator('[name="key-role"]').selectOption('agent');
    await page.getByRole('button', { name: 'Create key' }).click();
    const created = page.getByTestId('api-key-created');
    await created.getByText('it will not be shown again').waitFor();
    const secret = await page.getByTestId('api-key-secret').inputValue();
    check(/^bk_\S{20,}$/.test(secret), `the secret is shown: ${secret}`);
    await created.getByRole('button', { name: 'Copy' }).click();
    await created.getByText('Copied.').waitFor();
    check((await page.evaluate(() => navigator.clipboard.readText())) === secret, 'the secret is on the clipboard');
    const keyRow = page.locator('[data-testid=api-key]', { hasText: 'CI (e2e)' });
    await keyRow.getByText(`${secret.slice(0, 8)}…`).waitFor();
    await keyRow.getByText('agent', { exact: true }).waitFor();
    const withKey = () => fetch(`${server.url}/api/v1/me`, { headers: { authorization: `Bearer ${secret}` } });
    check((await withKey()).status === 200, 'the new key works');
    await page.screenshot({ path: join(screenshots, 'api-keys.png') });
    await created.getByRole('button', { name: 'Done' }).click();
    await created.waitFor({ state: 'detached' });
    // Shown once: not after a reload.
    await page.reload();
    await keyRow.waitFor();
    check(!(await page.content()).includes(secret), 'the secret is not shown again');
    await keyRow.getByRole('button', { name: 'Revoke…' }).click();
    await keyRow.getByRole('button', { name: 'Revoke key' }).click();
    await page.getByRole('status').filter({ hasText: 'Revoked “CI (e2e)”' }).waitFor();
    await keyRow.getByText(/^revoked /).waitFor();
    check((await keyRow.getByRole('button', { name: 'Revoke…' }).count()) === 0, 'a revoked key cannot be revoked again');
    check((await withKey()).status === 401, 'the revoked key is refused');
    // The 401 above came from node's fetch, not the page.

    // ---- AI provider -------------------------------------------------------------------------
    await openSection(page, 'AI provider');
    const ai = page.getByTestId('ai-settings');
    await ai.waitFor();
    const aiField = (name) => ai.locator(`[name="${name}"]`);
    check(await ai.locator('input[name=provider][value=offline]').isChecked(), 'offline at first');
    await page.locator('[data-testid=ai-embeddings][data-loaded=false]').waitFor();
    await ai.locator('input[name=provider][value=openai_compatible]').check();
    await ai.getByTestId('ai-examples').getByText('http://localhost:11434/v1').waitFor();
    // A base URL the server refuses: the error is next to the field.
    await aiField('base_url').fill('not a url');
    await aiField('model').fill('test-model');
    await ai.getByRole('button', { name: 'Save' }).click();
    await ai.getByTestId('field-error-base_url').waitFor();
    forgetRefusals(problems);
    await aiField('base_url').fill('http://127.0.0.1:9/v1');
    await aiField('api_key').fill('sk-e2e-not-shown');
    await aiField('timeout').fill('5');
    await ai.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();

    await page.reload();
    await ai.waitFor();
    check(await ai.locator('input[name=provider][value=openai_compatible]').isChecked(), 'the provider is kept');
    check((await aiField('base_url').inputValue()) === 'http://127.0.0.1:9/v1', 'the base URL is kept');
    check((await aiField('model').inputValue()) === 'test-model', 'the model is kept');
    check((await aiField('timeout').inputValue()) === '5', 'the timeout is kept');
    check((await aiField('api_key').inputValue()) === '', 'the key is not filled in');
    check((await aiField('api_key').getAttribute('placeholder')) === '•••• stored', 'the key shows as stored');
    await ai.getByTestId('ai-key-state').getByText('A key is stored').waitFor();
    check(!(await page.content()).includes('sk-e2e-not-shown'), 'the key is never sent back');
    const view = await call(page, 'GET', '/api/v1/workspace/ai');
    check(view.body.api_key_set === true && !JSON.stringify(view.body).includes('sk-e2e-not-shown'), `the view: ${JSON.stringify(view.body)}`);

    // Nothing listens on port 9: the test fails, and says so.
    await ai.getByTestId('ai-test').click();
    const result = page.locator('[data-testid=ai-test-result][data-ok=false]');
    await result.waitFor({ timeout: 30_000 });
    check((await result.innerText()).trim().length > 'Failed.'.length, `the failure says why: ${await result.innerText()}`);
    await page.waitForTimeout(200);
    await page.screenshot({ path: join(screenshots, 'ai-provider.png'), fullPage: true });

    // Back to offline, which needs no connection.
    await ai.locator('input[name=provider][value=offline]').check();
    await ai.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();
    const offline = await call(page, 'GET', '/api/v1/workspace/ai');
    check(offline.body.provider === 'offline', `offline again: ${JSON.stringify(offline.body)}`);
    await ai.getByTestId('ai-test').click();
    await page.locator('[data-testid=ai-test-result][data-ok=true]').waitFor();

    // ---- an agent reads the knowledge base and sees no admin pages ----------------------------
    // Added in the Members page, with a first password.
    await openSection(page, 'Members');
    const adder = page.getByTestId('add-member');
    await adder.getByText('Or add a teammate with a first password').click();
    await adder.getByLabel('Name').fill(AGENT.name);
    await adder.getByLabel('Email').fill(AGENT.email);
    await adder.getByLabel('Role').selectOption('agent');
    await adder.getByLabel('First password').fill(AGENT.password);
    await adder.getByRole('button', { name: 'Add teammate' }).click();
    await page.getByRole('status').filter({ hasText: `Added ${AGENT.name}.` }).waitFor();
    await page.getByTestId('members').getByRole('cell', { name: AGENT.email }).waitFor();
    const agentContext = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const agentPage = await agentContext.newPage();
    watch(agentPage, problems, 'agent');
    await signIn(agentPage, server.url, AGENT.email, AGENT.password);
    await agentPage.goto(`${server.url}/app/settings/knowledge`);
    await agentPage.locator('[data-testid=kb-article][data-id="refund-policy"]').getByRole('button', { name: 'Refund policy (30 days)' }).click();
    await agentPage.waitForFunction(() => document.querySelector('[data-testid=kb-editor] textarea[name=markdown]')?.value.startsWith('# Refunds'));
    check((await agentPage.locator('textarea[name=markdown]').getAttribute('readonly')) !== null, 'an agent cannot edit the text');
    check((await agentPage.getByRole('button', { name: 'Save article' }).count()) === 0, 'an agent cannot save');
    check((await agentPage.getByRole('button', { name: '+ New article' }).count()) === 0, 'an agent cannot add articles');
    await openSection(agentPage, 'AI provider');
    await agentPage.getByTestId('ai-admin-only').waitFor();
    await openSection(agentPage, 'API keys');
    await agentPage.getByTestId('api-keys-admin-only').waitFor();
    await agentContext.close();

    if (problems.length) throw new Error(`the page reported problems:\n${problems.join('\n')}`);
    console.log('e2e: passed (screenshots in web/e2e/screenshots/)');
  } catch (e) {
    fail(e instanceof Error ? e.stack ?? e.message : String(e));
    if (problems.length) console.error(problems.join('\n'));
    await screenshotAll(browser, 'settings-failure');
  } finally {
    await shutDown(run);
    rmSync(filesDir, { recursive: true, force: true });
  }
}

main().catch((e) => fail(e instanceof Error ? e.stack ?? e.message : String(e)));
