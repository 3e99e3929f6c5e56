// Parsers of the annotation files users already have. Each returns plain rows with the line they
// came from; every malformed line or unknown label is an IoError "<file>:<line>: <problem>".
//
//   list file    "<path> <label>" per line (MMAction2 VideoDataset, PySlowFast, PyTorchVideo);
//                labels are split from the right, so paths may contain the separator. Multi-label:
//                "<path> <l1> <l2> ..." or "<path> <l1>,<l2>,...". Empty lines are skipped.
//   Kinetics     the official CSV "label,youtube_id,time_start,time_end,split[,is_cc]" with a
//                header row (columns found by name); the clip file is
//                "<youtube_id>_<time_start:06d>_<time_end:06d>.mp4".
//   Charades     the official CSV "id,subject,scene,quality,relevance,verified,script,objects,
//                descriptions,actions,length" with a header; actions = "c092 11.90 21.20;c147 0.00
//                12.60" (class, start and end in seconds), possibly empty.
//   class list   one class name per line, the line number (from 0) is the index (MMAction2's
//                label_map_k400.txt).
//   SSv2         Something-Something V2 JSON: something-something-v2-labels.json maps each
//                template ("Putting something on a surface") to its class id (a string or a
//                number); -train.json / -validation.json are lists of {"id", "label", "template",
//                "placeholders"} whose class is the template with its brackets removed
//                ("Putting [something] on a surface"). Errors name the file and the entry index.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace asn::data {

struct ListFileOptions {
  std::string path;         // the list file
  char separator = ' ';     // between path and labels (' ' also accepts tabs)
  bool multilabel = false;  // several labels per line
};

struct ListEntry {
  std::string path;         // as written (relative to the dataset root, or absolute)
  std::vector<int> labels;  // one label unless multilabel
  int line = 0;
};
std::vector<ListEntry> parse_list_file(const std::string& text, const std::string& source,
                                       const ListFileOptions& options);

struct KineticsRow {
  std::string label;
  std::string youtube_id;
  int64_t time_start = 0;
  int64_t time_end = 0;
  std::string split;  // empty when the column is absent
  int line = 0;
};
std::vector<KineticsRow> parse_kinetics_csv(const std::string& text, const std::string& source);
// "<youtube_id>_<start:06d>_<end:06d><extension>".
std::string kinetics_file_name(const std::string& youtube_id, int64_t time_start, int64_t time_end,
                               const std::string& extension = ".mp4");

struct TimedAction {
  int label = 0;
  double start_s = 0;
  double end_s = 0;
};
struct CharadesRow {
  std::string id;
  std::vector<TimedAction> actions;
  double length_s = 0;  // the "length" column (0 when absent)
  int line = 0;
};
std::vector<CharadesRow> parse_charades_csv(const std::string& text, const std::string& source,
                                            int num_classes);
// One "actions" field; `where` is "<file>:<line>" for messages.
std::vector<TimedAction> parse_charades_actions(const std::string& field, const std::string& where,
                                                int num_classes);

// Something-Something V2. The labels file gives the class names (index order) and the template ->
// class map; entries keep their video id and class.
struct Ssv2Labels {
  std::vector<std::string> class_names;  // class_names[k] = the template of class k
};
Ssv2Labels parse_ssv2_labels(const std::string& text, const std::string& source);
struct Ssv2Entry {
  std::string id;  // the video is <id>.webm in the official release
  int label = 0;
  int index = 0;   // position in the JSON list (for messages)
};
std::vector<Ssv2Entry> parse_ssv2_annotations(const std::string& text, const std::string& source,
                                              const Ssv2Labels& labels);

// Class names, one per line (surrounding spaces trimmed, empty lines at the end ignored; an empty
// line in the middle or a repeated name is an error).
std::vector<std::string> parse_class_list(const std::string& text, const std::string& source);
std::vector<std::string> read_class_list(const std::string& path);

}  // namespace asn::data
