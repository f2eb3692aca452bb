/** The welcome panel's page: fills in the installation facts and wires the buttons to host messages. */
import '@vscode-elements/elements/dist/vscode-button/index.js';
import './welcome.css';
import { WelcomeInfo, WelcomeToHost, WelcomeToWebview, assertNever, welcomeProtocol } from '../../src/protocol/webview';
import { connectToHost } from '../common/hostChannel';

const channel = connectToHost<WelcomeToWebview, WelcomeToHost>('welcome', welcomeProtocol, (m) => {
  switch (m.type) {
    case 'welcome/info':
      showInfo(m.info);
      return;
    default:
      assertNever(m.type);
  }
});

function showInfo(info: WelcomeInfo): void {
  setText('extension-version', `v${info.extensionVersion}`);
  setText('vscode-version', info.vscodeVersion);
  setText('model', info.model || '(not set: the default model will be offered for download)');
}

function setText(testId: string, text: string): void {
  const el = document.querySelector(`[data-testid="${testId}"]`);
  if (el) el.textContent = text;
}

document.getElementById('open-explorer')?.addEventListener('click', () => channel.endpoint.post({ type: 'welcome/openExplorer' }));
document.getElementById('open-settings')?.addEventListener('click', () => channel.endpoint.post({ type: 'welcome/openSettings' }));
channel.ready();
