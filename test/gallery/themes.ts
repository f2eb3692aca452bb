/**
 * Realistic --vscode-* values for the gallery only (Dark Modern, Light Modern, Dark High Contrast), set on <html>
 * the way VS Code does, plus the body class VS Code uses for each theme kind.
 */
export interface GalleryTheme {
  readonly name: 'dark' | 'light' | 'hc';
  readonly bodyClass: string;
  readonly vars: Readonly<Record<string, string>>;
}

const common = {
  '--vscode-font-family': '-apple-system, BlinkMacSystemFont, "Segoe UI", "Ubuntu", "Droid Sans", sans-serif',
  '--vscode-font-size': '13px',
  '--vscode-editor-font-family': '"Droid Sans Mono", "DejaVu Sans Mono", monospace',
  '--vscode-editor-font-size': '13px',
};

export const THEMES: readonly GalleryTheme[] = [
  {
    name: 'dark', bodyClass: 'vscode-dark', vars: {
      ...common,
      '--vscode-settings-dropdownBackground': '#313131', '--vscode-settings-dropdownBorder': '#3c3c3c', '--vscode-settings-dropdownForeground': '#cccccc', '--vscode-settings-textInputBackground': '#313131', '--vscode-settings-textInputBorder': '#3c3c3c', '--vscode-settings-textInputForeground': '#cccccc', '--vscode-settings-checkboxBackground': '#313131', '--vscode-settings-checkboxBorder': '#3c3c3c', '--vscode-settings-checkboxForeground': '#cccccc', '--vscode-settings-headerBorder': '#2b2b2b', '--vscode-panel-background': '#181818', '--vscode-editorWidget-border': '#454545', '--vscode-button-hoverBackground': '#026ec1', '--vscode-button-secondaryHoverBackground': '#3c3c3c', '--vscode-button-border': '#ffffff12', '--vscode-input-placeholderForeground': '#989898', '--vscode-menu-background': '#1f1f1f', '--vscode-menu-foreground': '#cccccc', '--vscode-menu-selectionBackground': '#0078d4', '--vscode-widget-shadow': '#0000005c',
      '--vscode-editor-background': '#1f1f1f', '--vscode-editor-foreground': '#cccccc', '--vscode-foreground': '#cccccc',
      '--vscode-descriptionForeground': '#9d9d9d', '--vscode-focusBorder': '#0078d4', '--vscode-panel-border': '#2b2b2b', '--vscode-widget-border': '#313131',
      '--vscode-charts-blue': '#3794ff', '--vscode-charts-red': '#f14c4c', '--vscode-charts-green': '#89d185', '--vscode-charts-yellow': '#cca700',
      '--vscode-charts-orange': '#d18616', '--vscode-charts-purple': '#b180d7',
      '--vscode-badge-background': '#616161', '--vscode-badge-foreground': '#f8f8f8', '--vscode-editor-inactiveSelectionBackground': '#3a3d41',
      '--vscode-button-background': '#0078d4', '--vscode-button-foreground': '#ffffff', '--vscode-button-secondaryBackground': '#313131', '--vscode-button-secondaryForeground': '#cccccc',
      '--vscode-input-background': '#313131', '--vscode-input-foreground': '#cccccc', '--vscode-input-border': '#3c3c3c', '--vscode-dropdown-background': '#313131', '--vscode-dropdown-border': '#3c3c3c', '--vscode-dropdown-foreground': '#cccccc',
      '--vscode-checkbox-background': '#313131', '--vscode-checkbox-border': '#3c3c3c', '--vscode-checkbox-foreground': '#cccccc',
      '--vscode-editorHoverWidget-background': '#202020', '--vscode-editorHoverWidget-border': '#454545', '--vscode-editorHoverWidget-foreground': '#cccccc',
      '--vscode-list-hoverBackground': '#2a2d2e', '--vscode-editor-findMatchBorder': '#74879f', '--vscode-editor-selectionHighlightBackground': '#add6ff26',
      '--vscode-panelTitle-activeBorder': '#0078d4', '--vscode-panelTitle-activeForeground': '#cccccc', '--vscode-panelTitle-inactiveForeground': '#9d9d9d',
      '--vscode-progressBar-background': '#0078d4', '--vscode-toolbar-hoverBackground': '#5a5d5e50', '--vscode-icon-foreground': '#cccccc',
      '--vscode-inputValidation-warningBackground': '#352a05', '--vscode-inputValidation-warningBorder': '#b89500', '--vscode-errorForeground': '#f85149',
      '--vscode-settings-dropdownListBorder': '#454545', '--vscode-list-activeSelectionBackground': '#04395e', '--vscode-list-activeSelectionForeground': '#ffffff',
    },
  },
  {
    name: 'light', bodyClass: 'vscode-light', vars: {
      ...common,
      '--vscode-settings-dropdownBackground': '#ffffff', '--vscode-settings-dropdownBorder': '#cecece', '--vscode-settings-dropdownForeground': '#3b3b3b', '--vscode-settings-textInputBackground': '#ffffff', '--vscode-settings-textInputBorder': '#cecece', '--vscode-settings-textInputForeground': '#3b3b3b', '--vscode-settings-checkboxBackground': '#f8f8f8', '--vscode-settings-checkboxBorder': '#cecece', '--vscode-settings-checkboxForeground': '#3b3b3b', '--vscode-settings-headerBorder': '#e5e5e5', '--vscode-panel-background': '#f8f8f8', '--vscode-editorWidget-border': '#c8c8c8', '--vscode-button-hoverBackground': '#0258a8', '--vscode-button-secondaryHoverBackground': '#cccccc', '--vscode-button-border': '#0000001a', '--vscode-input-placeholderForeground': '#767676', '--vscode-menu-background': '#ffffff', '--vscode-menu-foreground': '#3b3b3b', '--vscode-menu-selectionBackground': '#005fb8', '--vscode-widget-shadow': '#00000029',
      '--vscode-editor-background': '#ffffff', '--vscode-editor-foreground': '#3b3b3b', '--vscode-foreground': '#3b3b3b',
      '--vscode-descriptionForeground': '#3b3b3b', '--vscode-focusBorder': '#005fb8', '--vscode-panel-border': '#e5e5e5', '--vscode-widget-border': '#e5e5e5',
      '--vscode-charts-blue': '#1a85ff', '--vscode-charts-red': '#e51400', '--vscode-charts-green': '#388a34', '--vscode-charts-yellow': '#bf8803',
      '--vscode-charts-orange': '#d18616', '--vscode-charts-purple': '#652d90',
      '--vscode-badge-background': '#cccccc', '--vscode-badge-foreground': '#3b3b3b', '--vscode-editor-inactiveSelectionBackground': '#e5ebf1',
      '--vscode-button-background': '#005fb8', '--vscode-button-foreground': '#ffffff', '--vscode-button-secondaryBackground': '#e5e5e5', '--vscode-button-secondaryForeground': '#3b3b3b',
      '--vscode-input-background': '#ffffff', '--vscode-input-foreground': '#3b3b3b', '--vscode-input-border': '#cecece', '--vscode-dropdown-background': '#ffffff', '--vscode-dropdown-border': '#cecece', '--vscode-dropdown-foreground': '#3b3b3b',
      '--vscode-checkbox-background': '#f8f8f8', '--vscode-checkbox-border': '#cecece', '--vscode-checkbox-foreground': '#3b3b3b',
      '--vscode-editorHoverWidget-background': '#f8f8f8', '--vscode-editorHoverWidget-border': '#c8c8c8', '--vscode-editorHoverWidget-foreground': '#3b3b3b',
      '--vscode-list-hoverBackground': '#f2f2f2', '--vscode-editor-findMatchBorder': '#a8ac94', '--vscode-editor-selectionHighlightBackground': '#add6ff80',
      '--vscode-panelTitle-activeBorder': '#005fb8', '--vscode-panelTitle-activeForeground': '#3b3b3b', '--vscode-panelTitle-inactiveForeground': '#3b3b3b',
      '--vscode-progressBar-background': '#005fb8', '--vscode-toolbar-hoverBackground': '#b8b8b850', '--vscode-icon-foreground': '#3b3b3b',
      '--vscode-inputValidation-warningBackground': '#f6f5d2', '--vscode-inputValidation-warningBorder': '#b89500', '--vscode-errorForeground': '#f85149',
      '--vscode-settings-dropdownListBorder': '#cecece', '--vscode-list-activeSelectionBackground': '#e8e8e8', '--vscode-list-activeSelectionForeground': '#000000',
    },
  },
  {
    name: 'hc', bodyClass: 'vscode-high-contrast', vars: {
      ...common,
      '--vscode-settings-dropdownBackground': '#000000', '--vscode-settings-dropdownBorder': '#6fc3df', '--vscode-settings-dropdownForeground': '#ffffff', '--vscode-settings-textInputBackground': '#000000', '--vscode-settings-textInputBorder': '#6fc3df', '--vscode-settings-textInputForeground': '#ffffff', '--vscode-settings-checkboxBackground': '#000000', '--vscode-settings-checkboxBorder': '#6fc3df', '--vscode-settings-checkboxForeground': '#ffffff', '--vscode-settings-headerBorder': '#6fc3df', '--vscode-panel-background': '#000000', '--vscode-editorWidget-border': '#6fc3df', '--vscode-input-placeholderForeground': '#ffffffb3', '--vscode-menu-background': '#000000', '--vscode-menu-foreground': '#ffffff', '--vscode-menu-selectionBorder': '#f38518', '--vscode-list-focusOutline': '#f38518',
      '--vscode-editor-background': '#000000', '--vscode-editor-foreground': '#ffffff', '--vscode-foreground': '#ffffff',
      '--vscode-descriptionForeground': '#ffffffb3', '--vscode-focusBorder': '#f38518', '--vscode-contrastBorder': '#6fc3df', '--vscode-contrastActiveBorder': '#f38518',
      '--vscode-panel-border': '#6fc3df', '--vscode-widget-border': '#6fc3df',
      '--vscode-charts-blue': '#3794ff', '--vscode-charts-red': '#f14c4c', '--vscode-charts-green': '#89d185', '--vscode-charts-yellow': '#ffd700',
      '--vscode-charts-orange': '#d18616', '--vscode-charts-purple': '#b180d7',
      '--vscode-badge-background': '#000000', '--vscode-badge-foreground': '#ffffff', '--vscode-editor-inactiveSelectionBackground': '#000000',
      '--vscode-button-background': '#000000', '--vscode-button-foreground': '#ffffff', '--vscode-button-border': '#6fc3df', '--vscode-button-secondaryBackground': '#000000', '--vscode-button-secondaryForeground': '#ffffff',
      '--vscode-input-background': '#000000', '--vscode-input-foreground': '#ffffff', '--vscode-input-border': '#6fc3df', '--vscode-dropdown-background': '#000000', '--vscode-dropdown-border': '#6fc3df', '--vscode-dropdown-foreground': '#ffffff',
      '--vscode-checkbox-background': '#000000', '--vscode-checkbox-border': '#6fc3df', '--vscode-checkbox-foreground': '#ffffff',
      '--vscode-editorHoverWidget-background': '#0c141f', '--vscode-editorHoverWidget-border': '#6fc3df', '--vscode-editorHoverWidget-foreground': '#ffffff',
      '--vscode-list-hoverBackground': '#000000', '--vscode-editor-findMatchBorder': '#f38518', '--vscode-editor-selectionHighlightBackground': '#000000',
      '--vscode-panelTitle-activeBorder': '#6fc3df', '--vscode-panelTitle-activeForeground': '#ffffff', '--vscode-panelTitle-inactiveForeground': '#ffffff',
      '--vscode-progressBar-background': '#6fc3df', '--vscode-toolbar-hoverBackground': '#000000', '--vscode-icon-foreground': '#ffffff',
      '--vscode-inputValidation-warningBackground': '#000000', '--vscode-inputValidation-warningBorder': '#6fc3df', '--vscode-errorForeground': '#f48771',
      '--vscode-settings-dropdownListBorder': '#6fc3df', '--vscode-list-activeSelectionBackground': '#000000', '--vscode-list-activeSelectionForeground': '#ffffff',
    },
  },
];
