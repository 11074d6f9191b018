import { randomUUID } from 'node:crypto';
import { predictionKey, predictionKeyOf } from './prediction-key';
import { uuidV5 } from './uuid-v5';

const project = '0f8d5c1e-3b2a-4c6d-9e7f-1a2b3c4d5e6f';
const other = '7a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d';

describe('predictionKey', () => {
  it('keeps a lower-case UUID as its own key, with nothing beside it (today’s ids unchanged)', () => {
    const id = randomUUID();
    expect(predictionKey(project, id)).toEqual({ id, externalId: null });
  });

  it('keys an upper-case UUID by its lower-case form and keeps the text as sent', () => {
    const id = randomUUID();
    expect(predictionKey(project, id.toUpperCase())).toEqual({ id, externalId: id.toUpperCase() });
  });

  it.each(['req-8f3a', 'chatcmpl-9xYz0123456789', '01HZX3K4Q8W2V5N7M9P0R1S2T3', '{6f1c9a57-2b8e-4d0a-9c3f-5e7b1d2a4c60}', 'A'])(
    'keys %s by its UUID version 5 in the project’s namespace, keeping the text',
    (id) => {
      const key = predictionKey(project, id);
      expect(key).toEqual({ id: uuidV5(id, project), externalId: id });
      expect(key.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    },
  );

  it('is RFC 9562’s UUID version 5 of the id’s UTF-8 in the project id’s namespace (Python’s uuid.uuid5 gives the same)', () => {
    // python3 -c "import uuid; print(uuid.uuid5(uuid.UUID('0f8d5c1e-3b2a-4c6d-9e7f-1a2b3c4d5e6f'), 'req-8f3a'))"
    expect(predictionKeyOf(project, 'req-8f3a')).toBe('da6eb202-aa7b-54a7-8260-7dc0c96fd13c');
  });

  it('gives the same key to the same id every time, another to another id, case and all, and another in another project', () => {
    expect(predictionKeyOf(project, 'req-1')).toBe(predictionKeyOf(project, 'req-1'));
    expect(predictionKeyOf(project, 'req-1')).not.toBe(predictionKeyOf(project, 'REQ-1'));
    expect(predictionKeyOf(project, 'req-1')).not.toBe(predictionKeyOf(project, 'req-2'));
    expect(predictionKeyOf(project, 'req-1')).not.toBe(predictionKeyOf(other, 'req-1'));
  });
});
