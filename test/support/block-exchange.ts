/**
 * A node's room block exchange over a fake client, for the block tests: one room, every
 * sender a node, its answers capped at `maxCarBytes` as the node's own downloads are.
 */
import { RoomBlockExchange } from '../../src/blocks/room-exchange.ts';
import type { RoomId } from '../../src/ids.ts';
import { silentLogger } from '../../src/log/logger.ts';
import type { MeshClient } from '../../src/matrix/types.ts';
import type { Store } from '../../src/store/types.ts';

export const BLOCKS_ROOM = '!mesh:hs' as RoomId;

export function blockExchange(
  client: MeshClient,
  store: Store,
  maxCarBytes: number,
): RoomBlockExchange {
  return new RoomBlockExchange({
    client,
    store,
    log: silentLogger,
    rooms: () => [BLOCKS_ROOM],
    admitted: () => true,
    servesWants: () => true,
    maxCarBytes,
  });
}
