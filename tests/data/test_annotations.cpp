// Annotation parsers on small hand-written files: list files (single and multi-label, paths with
// spaces), the Kinetics CSV, the Charades CSV, class lists and CSV quoting; every malformed line is
// an IoError naming the file and the line.
#include <catch2/catch.hpp>
#include <functional>

#include "engine/data/annotations.h"
#include "engine/data/csv.h"
#include "engine/error.h"

using namespace asn;
using namespace asn::data;

namespace {
void fails_at(const std::function<void()>& f, const std::string& where, const std::string& what) {
  REQUIRE_THROWS_AS(f(), IoError);
  REQUIRE_THROWS_WITH(f(), Catch::Contains(where) && Catch::Contains(what));
}
}  // namespace

TEST_CASE("csv: quotes, embedded separators and newlines, line numbers", "[data][annotations]") {
  const std::string text =
      "a,b,c\r\n"
      "1,\"x, y\",3\n"
      "\n"
      "   \n"
      "4,\"multi\nline \"\"quoted\"\"\",6\n"
      "7,,9\n";
  const auto recs = parse_csv(text, "t.csv");
  REQUIRE(recs.size() == 4);
  REQUIRE(recs[0].fields == std::vector<std::string>{"a", "b", "c"});
  REQUIRE(recs[0].line == 1);
  REQUIRE(recs[1].fields == std::vector<std::string>{"1", "x, y", "3"});
  REQUIRE(recs[1].line == 2);
  REQUIRE(recs[2].fields == std::vector<std::string>{"4", "multi\nline \"quoted\"", "6"});
  REQUIRE(recs[2].line == 5);
  REQUIRE(recs[3].fields == std::vector<std::string>{"7", "", "9"});
  REQUIRE(recs[3].line == 7);
  fails_at([] { parse_csv("a,b\n1,\"open\n2,3\n", "q.csv"); }, "q.csv:2", "unterminated");
  fails_at([] { read_text_file("/nonexistent/list.txt"); }, "/nonexistent/list.txt", "cannot open");
}

TEST_CASE("list file: path and label split from the right", "[data][annotations]") {
  ListFileOptions o;
  const auto e = parse_list_file(
      "videos/a.mp4 3\n"
      "\n"
      "my videos/clip one.mp4 12\r\n"
      "/abs/b.mkv\t0\n"
      "c.mp4   7  \n",
      "train.txt", o);
  REQUIRE(e.size() == 4);
  REQUIRE(e[0].path == "videos/a.mp4");
  REQUIRE(e[0].labels == std::vector<int>{3});
  REQUIRE(e[0].line == 1);
  REQUIRE(e[1].path == "my videos/clip one.mp4");
  REQUIRE(e[1].labels == std::vector<int>{12});
  REQUIRE(e[1].line == 3);
  REQUIRE(e[2].path == "/abs/b.mkv");
  REQUIRE(e[2].labels == std::vector<int>{0});
  REQUIRE(e[3].path == "c.mp4");
  REQUIRE(e[3].labels == std::vector<int>{7});

  fails_at([&] { parse_list_file("a.mp4 1\nb.mp4\n", "l.txt", o); }, "l.txt:2", "malformed line");
  fails_at([&] { parse_list_file("a.mp4 x\n", "l.txt", o); }, "l.txt:1",
           "expected '<path> <label>'");
  fails_at([&] { parse_list_file("a.mp4 1\n\nb.mp4 -2\n", "l.txt", o); }, "l.txt:3", "negative");
  fails_at([&] { parse_list_file("a.mp4 1,2\n", "l.txt", o); }, "l.txt:1", "multi-label");
  fails_at([&] { parse_list_file("5\n", "l.txt", o); }, "l.txt:1", "malformed");

  // PySlowFast's configurable separator.
  ListFileOptions comma;
  comma.separator = ',';
  const auto c = parse_list_file("dir with space/x.mp4,4\n", "c.csv", comma);
  REQUIRE(c[0].path == "dir with space/x.mp4");
  REQUIRE(c[0].labels == std::vector<int>{4});
}

TEST_CASE("list file: multi-label lines, spaces or commas", "[data][annotations]") {
  ListFileOptions o;
  o.multilabel = true;
  const auto e = parse_list_file("a b.mp4 1 5 9\nc.mp4 2,4\nd.mp4 0\ne.mp4 3,4 6\n", "m.txt", o);
  REQUIRE(e.size() == 4);
  REQUIRE(e[0].path == "a b.mp4");
  REQUIRE(e[0].labels == std::vector<int>{1, 5, 9});
  REQUIRE(e[1].labels == std::vector<int>{2, 4});
  REQUIRE(e[2].labels == std::vector<int>{0});
  REQUIRE(e[3].labels == std::vector<int>{3, 4, 6});
  fails_at([&] { parse_list_file("a.mp4 1\nb.mp4 2,,3\n", "m.txt", o); }, "m.txt:2", "malformed");
}

TEST_CASE("kinetics csv: columns by header name, file names, malformed lines",
          "[data][annotations]") {
  const std::string csv =
      "label,youtube_id,time_start,time_end,split,is_cc\n"
      "abseiling,--07WQ2iBlw,1,11,train,0\n"
      "\"passing American football (in game)\",-5qpbw0Tb5k,132,142,train,1\n";
  const auto rows = parse_kinetics_csv(csv, "k400_train.csv");
  REQUIRE(rows.size() == 2);
  REQUIRE(rows[0].label == "abseiling");
  REQUIRE(rows[0].youtube_id == "--07WQ2iBlw");
  REQUIRE(rows[0].time_start == 1);
  REQUIRE(rows[0].time_end == 11);
  REQUIRE(rows[0].split == "train");
  REQUIRE(rows[1].label == "passing American football (in game)");
  REQUIRE(rows[1].line == 3);
  REQUIRE(kinetics_file_name(rows[0].youtube_id, rows[0].time_start, rows[0].time_end) ==
          "--07WQ2iBlw_000001_000011.mp4");
  REQUIRE(kinetics_file_name("x", 132, 142, ".mkv") == "x_000132_000142.mkv");

  // Column order is taken from the header; is_cc and split are optional.
  const auto r2 = parse_kinetics_csv("youtube_id,label,time_end,time_start\nabc,yoga,20,10\n", "k");
  REQUIRE(r2[0].label == "yoga");
  REQUIRE(r2[0].time_start == 10);
  REQUIRE(r2[0].split.empty());

  fails_at([] { parse_kinetics_csv("label,id,time_start,time_end\n", "k.csv"); }, "k.csv:1",
           "'youtube_id'");
  fails_at(
      [] {
        parse_kinetics_csv("label,youtube_id,time_start,time_end\na,b,1,2\nc,d,x,4\n", "k.csv");
      },
      "k.csv:3", "time_start");
  fails_at([] { parse_kinetics_csv("label,youtube_id,time_start,time_end\na,b,1\n", "k.csv"); },
           "k.csv:2", "3 fields where the header has 4");
  fails_at([] { parse_kinetics_csv("", "k.csv"); }, "k.csv", "empty");
}

TEST_CASE("charades csv: actions with times, empty actions, malformed actions",
          "[data][annotations]") {
  const std::string csv =
      "id,subject,scene,quality,relevance,verified,script,objects,descriptions,actions,length\n"
      "46GP8,HR43,Kitchen,6,7,Yes,\"A person cooks, then eats.\",food;stove,"
      "\"Person cooks; eats.\",c092 11.90 21.20;c147 0.00 12.60,24.83\n"
      "N11GT,P0MW,Stairs,6,7,Yes,A person walks.,stairs,desc,,17.25\n";
  const auto rows = parse_charades_csv(csv, "Charades_v1_train.csv", 157);
  REQUIRE(rows.size() == 2);
  REQUIRE(rows[0].id == "46GP8");
  REQUIRE(rows[0].actions.size() == 2);
  REQUIRE(rows[0].actions[0].label == 92);
  REQUIRE(rows[0].actions[0].start_s == Approx(11.9));
  REQUIRE(rows[0].actions[0].end_s == Approx(21.2));
  REQUIRE(rows[0].actions[1].label == 147);
  REQUIRE(rows[0].length_s == Approx(24.83));
  REQUIRE(rows[1].actions.empty());
  REQUIRE(rows[1].line == 3);

  const std::string head =
      "id,subject,scene,quality,relevance,verified,script,objects,descriptions,actions,length\n";
  fails_at([&] { parse_charades_csv(head + "A,s,k,1,1,Yes,x,o,d,c200 1 2,5\n", "ch.csv", 157); },
           "ch.csv:2", "unknown action class 'c200'");
  fails_at([&] { parse_charades_csv(head + "A,s,k,1,1,Yes,x,o,d,c001 1,5\n", "ch.csv", 157); },
           "ch.csv:2", "malformed action");
  fails_at([&] { parse_charades_csv(head + "A,s,k,1,1,Yes,x,o,d,x001 1 2,5\n", "ch.csv", 157); },
           "ch.csv:2", "expected 'cNNN <start> <end>'");
  fails_at([&] { parse_charades_csv(head + "A,s,k,1,1,Yes,x,o,d,c001 5 2,5\n", "ch.csv", 157); },
           "ch.csv:2", "ends before it starts");
  fails_at([&] { parse_charades_csv("id,subject\nA,s\n", "ch.csv", 157); }, "ch.csv:1",
           "'actions'");
}

TEST_CASE("class list: line number is the index", "[data][annotations]") {
  REQUIRE(parse_class_list("abseiling\nair drumming\n answering questions \n\n", "c.txt") ==
          std::vector<std::string>{"abseiling", "air drumming", "answering questions"});
  fails_at([] { parse_class_list("a\n\nb\n", "c.txt"); }, "c.txt:2", "empty line");
  fails_at([] { parse_class_list("a\nb\na\n", "c.txt"); }, "c.txt:3", "listed twice");
  fails_at([] { parse_class_list("\n", "c.txt"); }, "c.txt", "empty");
}

TEST_CASE("ssv2: labels file and annotation lists, brackets stripped, errors name file and entry",
          "[data][annotations]") {
  // The official files' shapes: class ids as strings, templates with bracketed placeholders.
  const std::string labels_json = R"({"Approaching something with your camera": "0",
    "Holding something next to something": "2", "Putting something on a surface": "1"})";
  const Ssv2Labels labels = parse_ssv2_labels(labels_json, "labels.json");
  REQUIRE(labels.class_names == std::vector<std::string>{"Approaching something with your camera",
                                                         "Putting something on a surface",
                                                         "Holding something next to something"});
  const std::string train = R"([
    {"id": "78687", "label": "holding potato next to vicks vaporub bottle",
     "template": "Holding [something] next to [something]", "placeholders": ["potato", "vicks vaporub bottle"]},
    {"id": 42326, "label": "putting a cup on a table", "template": "Putting [something] on a surface",
     "placeholders": ["a cup"]}])";
  const std::vector<Ssv2Entry> es = parse_ssv2_annotations(train, "train.json", labels);
  REQUIRE(es.size() == 2);
  REQUIRE(es[0].id == "78687");
  REQUIRE(es[0].label == 2);
  REQUIRE(es[1].id == "42326");  // numeric ids accepted
  REQUIRE(es[1].label == 1);
  // Integer class ids are accepted too.
  REQUIRE(parse_ssv2_labels(R"({"b": 1, "a": 0})", "l.json").class_names == std::vector<std::string>{"a", "b"});

  auto fails = [&](const std::string& text, const std::string& fragment) {
    REQUIRE_THROWS_AS(parse_ssv2_annotations(text, "val.json", labels), IoError);
    REQUIRE_THROWS_WITH(parse_ssv2_annotations(text, "val.json", labels),
                        Catch::Contains("val.json") && Catch::Contains(fragment));
  };
  fails("[{\"id\": \"1\", \"template\": \"Dropping [something]\"}]", "entry 0 (video 1): template 'Dropping something' is not in the labels file");
  fails("[{\"id\": \"1\", \"template\": \"Putting [something] on a surface\"}, {\"id\": \"2\"}]",
        "entry 1 (video 2): no \"template\"");
  fails("[{\"template\": \"x\"}]", "entry 0: needs an object with an \"id\"");
  fails("{\"id\": 1}", "expected a JSON list");
  fails("[{\"id\": 1,", "not valid JSON");
  auto label_fails = [&](const std::string& text, const std::string& fragment) {
    REQUIRE_THROWS_WITH(parse_ssv2_labels(text, "labels.json"), Catch::Contains("labels.json") && Catch::Contains(fragment));
  };
  label_fails(R"({"a": "0", "b": "2"})", "1 is missing");
  label_fails(R"({"a": "0", "b": "0"})", "class id 0 is given to both");
  label_fails(R"({"a": "zero"})", "is not an integer");
  label_fails(R"({"a": [0]})", "must be an integer or a string");
  label_fails("[]", "expected a JSON object");
}
