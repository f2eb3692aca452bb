/**
 * The one browser bundle for the four analysis views (dist/webview/views.js). One bundle because the views share
 * almost all their code (chips, heatmap, scales, shell); the panel says which view via <body data-view="…">.
 */
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-checkbox/index.js';
import '@vscode-elements/elements/dist/vscode-label/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import '@vscode-elements/elements/dist/vscode-progress-ring/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import '@vscode-elements/elements/dist/vscode-tab-header/index.js';
import '@vscode-elements/elements/dist/vscode-tab-panel/index.js';
import '@vscode-elements/elements/dist/vscode-tabs/index.js';
import '@vscode-elements/elements/dist/vscode-textfield/index.js';
import '@vscode-elements/elements/dist/vscode-toolbar-button/index.js';
import '@vscode/codicons/dist/codicon.css';
import '../../media/views.css';
import { isViewKind } from '../../src/protocol/views';
import { VsCodeHost } from '../lib/vscodeHost';
import { startView } from './app';

const root = document.getElementById('root') ?? document.body;
const kind = root.dataset.view ?? document.body.dataset.view;
if (!isViewKind(kind)) {
  root.textContent = `Transformer Explorer: unknown view "${String(kind)}".`;
} else {
  startView(kind, new VsCodeHost(kind), root);
}
