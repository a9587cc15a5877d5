package io.crowdbackup.cli;

import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Media types by file extension, for the inner metadata and for {@code --compress auto} (which skips LZ4
 * for formats that are already compressed). A fixed table rather than {@code Files.probeContentType}, whose
 * answers differ from one machine to the next.
 */
final class MediaTypes {
  private static final Map<String, String> BY_EXTENSION = new HashMap<>();

  static {
    String[][] table = {
        {"jpg", "image/jpeg"}, {"jpeg", "image/jpeg"}, {"heic", "image/heic"}, {"heif", "image/heif"},
        {"png", "image/png"}, {"gif", "image/gif"}, {"webp", "image/webp"}, {"avif", "image/avif"},
        {"dng", "image/x-adobe-dng"}, {"tif", "image/tiff"}, {"tiff", "image/tiff"}, {"bmp", "image/bmp"},
        {"mp4", "video/mp4"}, {"m4v", "video/mp4"}, {"mov", "video/quicktime"}, {"mkv", "video/x-matroska"},
        {"webm", "video/webm"}, {"3gp", "video/3gpp"}, {"mp3", "audio/mpeg"}, {"m4a", "audio/mp4"},
        {"aac", "audio/aac"}, {"ogg", "audio/ogg"}, {"opus", "audio/opus"}, {"flac", "audio/flac"},
        {"wav", "audio/wav"}, {"txt", "text/plain"}, {"md", "text/markdown"}, {"csv", "text/csv"},
        {"json", "application/json"}, {"xml", "application/xml"}, {"html", "text/html"},
        {"pdf", "application/pdf"}, {"zip", "application/zip"}, {"gz", "application/gzip"},
        {"7z", "application/x-7z-compressed"}, {"zst", "application/zstd"}, {"cbe", "application/vnd.crowdbackup.envelope"},
    };
    for (String[] row : table) {
      BY_EXTENSION.put(row[0], row[1]);
    }
  }

  private MediaTypes() {}

  static String forName(String fileName) {
    int dot = fileName.lastIndexOf('.');
    if (dot < 0) {
      return "application/octet-stream";
    }
    return BY_EXTENSION.getOrDefault(fileName.substring(dot + 1).toLowerCase(Locale.ROOT),
        "application/octet-stream");
  }
}
