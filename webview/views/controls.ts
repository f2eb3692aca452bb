/** Labelled controls built from @vscode-elements/elements (keyboard-accessible by themselves). */
import { h } from '../lib/dom';

let uid = 0;
const nextId = (p: string) => `${p}-${++uid}`;

export function select(label: string, options: readonly { value: string; label: string }[], value: string, onChange: (v: string) => void, cls?: string): HTMLElement {
  const id = nextId('sel');
  const el = h('vscode-single-select', { id, 'aria-label': label, class: cls }) as HTMLElement & { value: string };
  for (const o of options) el.append(h('vscode-option', { value: o.value, selected: o.value === value }, o.label));
  el.addEventListener('change', () => onChange(el.value));
  return h('span', { class: 'te-field' }, h('vscode-label', { for: id }, label), el);
}

export function checkbox(label: string, checked: boolean, onChange: (on: boolean) => void): HTMLElement {
  const el = h('vscode-checkbox', { checked, label }) as HTMLElement & { checked: boolean };
  el.addEventListener('change', () => onChange(el.checked));
  return el;
}

export function numberField(label: string, value: number, min: number, max: number, onChange: (v: number) => void, step = 1): HTMLElement {
  const id = nextId('num');
  const el = h('vscode-textfield', { id, type: 'number', min, max, step, value: String(value), 'aria-label': label, class: 'te-number' }) as HTMLElement & { value: string };
  el.addEventListener('change', () => {
    const v = Number(el.value);
    if (Number.isFinite(v) && v >= min && v <= max) onChange(v);
    else el.value = String(value);
  });
  return h('span', { class: 'te-field' }, h('vscode-label', { for: id }, label), el);
}

export function tabs(label: string, names: readonly string[], selected: number, onSelect: (i: number) => void): HTMLElement {
  const el = h('vscode-tabs', { 'selected-index': selected, 'aria-label': label, class: 'te-tabs' });
  names.forEach((n, i) => {
    el.append(h('vscode-tab-header', { slot: 'header', 'data-tab': i }, n));
    el.append(h('vscode-tab-panel', { 'data-tab': i }));
  });
  el.addEventListener('vsc-tabs-select', (e) => {
    const i = (e as CustomEvent<{ selectedIndex: number }>).detail.selectedIndex;
    if (i !== selected) onSelect(i);
  });
  return el;
}

export function button(label: string, onClick: () => void, opts: { secondary?: boolean; icon?: string; action?: string } = {}): HTMLElement {
  const b = h('vscode-button', { secondary: opts.secondary, icon: opts.icon, 'data-action': opts.action }, label);
  b.addEventListener('click', onClick);
  return b;
}
