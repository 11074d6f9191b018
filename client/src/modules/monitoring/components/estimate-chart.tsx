import { Area, CartesianGrid, ComposedChart, Legend, Line, ReferenceLine, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { axisTick, percent } from './format';

export interface EstimatePoint {
  at: string;
  value: number;
  /** the 95% interval */
  band: [number, number];
}

/**
 * One estimate over time: its line, its 95% interval shaded, and the slice's baseline dashed.
 * A share runs from 0 to 1 on a percent axis; an amount (an error in the question's unit) from 0 up.
 */
export function EstimateChart({
  points,
  name,
  show,
  scale,
  baseline,
  label,
  testId,
}: {
  points: EstimatePoint[];
  name: string;
  show: (value: number) => string;
  scale: 'share' | 'amount';
  baseline?: number;
  label: string;
  testId?: string;
}) {
  return (
    <div className="ops-chart" role="img" aria-label={label} data-testid={testId}>
      <ResponsiveContainer width="100%" height={220}>
        <ComposedChart data={points} margin={{ top: 8, right: 16, bottom: 0, left: 0 }}>
          <CartesianGrid stroke="#e4ded3" vertical={false} />
          <XAxis dataKey="at" tick={{ fontSize: 12 }} minTickGap={40} />
          {scale === 'amount' ? (
            <YAxis domain={[0, 'auto']} tickFormatter={axisTick} tick={{ fontSize: 12 }} width={52} />
          ) : (
            <YAxis domain={[0, 1]} tickFormatter={(v: number) => percent(v, 0)} tick={{ fontSize: 12 }} width={44} />
          )}
          <Tooltip formatter={(value) => (Array.isArray(value) ? `${show(Number(value[0]))}–${show(Number(value[1]))}` : show(Number(value)))} />
          <Legend />
          <Area dataKey="band" name="95% interval" stroke="none" fill="#d5efeb" isAnimationActive={false} />
          <Line dataKey="value" name={name} stroke="#0c6b66" strokeWidth={2} dot={{ r: 2 }} isAnimationActive={false} />
          {baseline !== undefined ? (
            <ReferenceLine
              y={baseline}
              stroke="#c2661c"
              strokeDasharray="5 4"
              label={{ value: 'baseline', fontSize: 11, fill: '#c2661c', position: 'insideTopRight' }}
            />
          ) : null}
        </ComposedChart>
      </ResponsiveContainer>
    </div>
  );
}
