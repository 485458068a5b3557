import type { Lineage } from './ports.js';

export interface ParentTrack {
  id: string;
  userId: string;
  trackNumber: number | null;
}

/** The lineage of a request of the given kind; only regenerations and remixes have one. */
export function lineageFor(kind: string, parent: ParentTrack | undefined): Lineage | undefined {
  if (parent === undefined || (kind !== 'remix' && kind !== 'regenerate')) return undefined;
  return {
    kind,
    parentId: parent.id,
    parentUserId: parent.userId,
    ...(parent.trackNumber === null ? {} : { parentNumber: parent.trackNumber }),
  };
}
