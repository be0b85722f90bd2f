'use client';

import 'asciinema-player/dist/bundle/asciinema-player.css';
import { useEffect, useRef, type MutableRefObject } from 'react';
import { withTail } from '@/lib/asciicast-tail';

/** What the page may ask of a player: jump to the n-th marker of the recording (asciinema-player ≥ 3.6). */
export interface PlayerControl {
  seekMarker(index: number): void;
}

/** asciinema-player on a recording's URL: play, pause, a scrubber (with the recording's markers on it), speed, fullscreen. */
export function RecordingPlayer({ url, share, control }: { url: string; share?: string; control?: MutableRefObject<PlayerControl | null> }) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    let player: { dispose(): void } | null = null;
    let gone = false;
    void import('asciinema-player').then((A) => {
      if (gone || !ref.current) return;
      // A recording link's page has no session: the cast is fetched with the link, as the page's API calls do.
      const data = async () => {
        const res = await fetch(url, share ? { headers: { 'x-hangar-share': share } } : {});
        if (!res.ok) throw new Error(`the recording could not be read (${res.status})`);
        return withTail(await res.text());
      };
      const src = { data };
      const p = A.create(src, ref.current, { fit: 'width', controls: true, autoPlay: true, idleTimeLimit: 2, terminalFontSize: 'small' });
      player = p;
      // By index, not time: the player shortens idle stretches (idleTimeLimit), so the file's times are not its own.
      // Paused there: a jump shows the console as it was at the marker (playing on would run past it).
      if (control)
        control.current = {
          seekMarker: (i) =>
            void p
              .pause()
              .then(() => p.seek({ marker: i }))
              .catch(() => undefined),
        };
    });
    return () => {
      gone = true;
      if (control) control.current = null;
      player?.dispose();
    };
  }, [url, share, control]);
  return <div ref={ref} className="overflow-hidden rounded-lg" data-testid="recording-player" />;
}
