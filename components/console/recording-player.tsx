'use client';

import 'asciinema-player/dist/bundle/asciinema-player.css';
import { useEffect, useRef } from 'react';

/** asciinema-player on a recording's URL: play, pause, a scrubber, speed, fullscreen. */
export function RecordingPlayer({ url }: { url: string }) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    let player: { dispose(): void } | null = null;
    let gone = false;
    void import('asciinema-player').then((A) => {
      if (gone || !ref.current) return;
      player = A.create(url, ref.current, { fit: 'width', controls: true, autoPlay: true, idleTimeLimit: 2, terminalFontSize: 'small' });
    });
    return () => {
      gone = true;
      player?.dispose();
    };
  }, [url]);
  return <div ref={ref} className="overflow-hidden rounded-lg" data-testid="recording-player" />;
}
