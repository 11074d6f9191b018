import type { LabelDefinition } from '@backflow/contracts';

export interface KeyedLabel {
  name: string;
  description?: string;
  key: string;
}

/** Each label's key: the project's hotkey, else 1–9 in order. */
export function keyedLabels(labels: readonly LabelDefinition[]): KeyedLabel[] {
  return labels.map((label, index) => ({
    name: label.name,
    description: label.description,
    key: (label.hotkey ?? (index < 9 ? String(index + 1) : '')).toLowerCase(),
  }));
}

export interface LabelButtonsProps {
  labels: KeyedLabel[];
  selected: string | null;
  suggestion?: string;
  /** a machine's label: the labeling functions' (weak) or the nearest labelled neighbours' (propagated) */
  machine?: { source: 'weak' | 'propagated'; label: string; confidence: number };
  onSelect: (label: string) => void;
  /** each button a tab stop (off where a question is one tab stop, answered by its keys) */
  tabbable?: boolean;
}

export function LabelButtons({ labels, selected, suggestion, machine, onSelect, tabbable = true }: LabelButtonsProps) {
  return (
    <div className="label-buttons" role="group" aria-label="Labels">
      {labels.map((label) => (
        <button
          key={label.name}
          type="button"
          className={['label-button', selected === label.name ? 'label-button--selected' : ''].join(' ')}
          aria-pressed={selected === label.name}
          aria-keyshortcuts={label.key || undefined}
          title={label.description}
          tabIndex={tabbable ? undefined : -1}
          onClick={() => onSelect(label.name)}
          data-label={label.name}
        >
          {label.key ? <kbd className="label-button__key">{label.key.toUpperCase()}</kbd> : null}
          <span className="label-button__name">{label.name}</span>
          {/* aria-pressed says it to assistive technology; the mark says it to the eye */}
          {selected === label.name ? (
            <span className="label-button__chosen" aria-hidden="true">
              ✓ chosen
            </span>
          ) : null}
          {suggestion === label.name ? <span className="label-button__hint">model's guess</span> : null}
          {machine?.label === label.name ? (
            <span className="label-button__hint" data-testid="machine-hint">
              {machine.source === 'weak' ? 'rules say' : 'neighbours say'} {Math.round(machine.confidence * 100)}%
            </span>
          ) : null}
        </button>
      ))}
    </div>
  );
}
