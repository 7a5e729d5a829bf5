const BY_EXTENSION: Record<string, string> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  webp: 'image/webp',
  gif: 'image/gif',
  mp4: 'video/mp4',
  webm: 'video/webm',
};

/** The media type an output URL's file name implies, when it names one Kiln knows. */
export const contentTypeOf = (url: string): string | undefined => {
  let path = url;
  try {
    path = new URL(url).pathname;
  } catch {
    // not an absolute URL: read the extension off the text as it is
  }
  const extension = /\.([a-z0-9]+)$/i.exec(path)?.[1]?.toLowerCase();
  return extension ? BY_EXTENSION[extension] : undefined;
};
