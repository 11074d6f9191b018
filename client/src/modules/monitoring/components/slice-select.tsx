import { rowKey, sliceName, versionName, type VersionSlice } from './format';

/** The choice of one model version × slice among a panel's rows, by `rowKey`. */
export function SliceSelect({ rows, value, onChange, testId }: { rows: VersionSlice[]; value: string; onChange: (key: string) => void; testId: string }) {
  return (
    <label className="admin-section__control">
      Slice{' '}
      <select value={value} onChange={(event) => onChange(event.target.value)} data-testid={testId}>
        {rows.map((r) => (
          <option key={rowKey(r)} value={rowKey(r)}>
            {versionName(r.modelVersion)} · {sliceName(r.sliceKey, r.sliceValue)}
          </option>
        ))}
      </select>
    </label>
  );
}
