// One conformance suite of the search matching rules (API.md Part 3,
// "Search"; PS3.4 C.2.2.2), run on both index backends: SQLite and a real
// PostgreSQL 15 (the CTest fixture "postgres"). Each case is a query and
// the rows it must find, or the 400 it must get.
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <algorithm>
#include <atomic>
#include <thread>
#include <map>
#include <random>
#include <set>
#include <memory>
#include <string>
#include <vector>

#include "index_store.h"
#include "pg_database.h"
#include "postgres.h"
#include "sqlite_database.h"
#include "temp_dir.h"

using namespace dicomd::index;

namespace {

// One stored file, its search keys as describe() gives them.
struct File {
  std::string study, file, attrs;
};

std::string person(const std::string& pid, const std::string& name, const std::string& study_uid,
                   const std::string& date) {
  std::string out =
      R"("PatientID":")" + pid + R"(","PatientName":")" + name + R"(","StudyInstanceUID":")" + study_uid + "\"";
  if (!date.empty()) out += R"(,"StudyDate":")" + date + "\"";
  return out;
}

// Seven studies, eight series, eleven files; two files (d1 in s1, d2 in s2)
// hold one SOP instance; e1 has no StudyDate and a PatientID made of SQL.
std::vector<File> corpus() {
  const std::string ct = R"("SOPClassUID":"1.2.840.10008.5.1.4.1.1.2")";
  const std::string mr = R"("SOPClassUID":"1.2.840.10008.5.1.4.1.1.4")";
  std::string a =
      person("P1", "MÜLLER^Klaus", "1.2.1", "20200115") +
      R"(,"PatientBirthDate":"19600101","PatientSex":"M","StudyTime":"093000","AccessionNumber":"ACC1",)"
      R"("StudyDescription":"CT Thorax","ReferringPhysicianName":"Dr^Who","InstitutionName":"Hôpital Nord")";
  std::string a_ct = a +
                     R"(,"SeriesInstanceUID":"1.2.1.1","Modality":"CT","SeriesNumber":1,)"
                     R"("SeriesDescription":"Axial","BodyPartExamined":"CHEST",)" +
                     ct;
  std::string b = person("P2", "Müller^Anna", "1.2.2", "20210301") +
                  R"(,"PatientBirthDate":"19851231","PatientSex":"F","StudyTime":"141500.5","AccessionNumber":"ACC2",)"
                  R"("StudyDescription":"MR Brain","ReferringPhysicianName":"Smith^John","InstitutionName":"Clinic",)"
                  R"("SeriesInstanceUID":"1.2.2.1","Modality":"MR","SeriesNumber":1,"BodyPartExamined":"HEAD",)" +
                  mr;
  std::string d = person("P4", "Buc^Jérôme", "1.2.4", "20200229") +
                  R"(,"StudyTime":"120000","AccessionNumber":"ACC4","SeriesInstanceUID":"1.2.4.1","Modality":"CR",)"
                  R"("SeriesNumber":1,"SOPClassUID":"1.2.840.10008.5.1.4.1.1.1","SOPInstanceUID":"1.2.4.1.1",)"
                  R"("InstanceNumber":1)";
  return {
      {"s1", "a1", "{" + a_ct + R"(,"SOPInstanceUID":"1.2.1.1.1","InstanceNumber":1})"},
      {"s1", "a2", "{" + a_ct + R"(,"SOPInstanceUID":"1.2.1.1.2","InstanceNumber":2})"},
      {"s1", "a3",
       "{" + a +
           R"(,"SeriesInstanceUID":"1.2.1.2","Modality":"MR","SeriesNumber":2,)"
           R"("SeriesDescription":"T1","BodyPartExamined":"HEAD",)" +
           mr + R"(,"SOPInstanceUID":"1.2.1.2.1","InstanceNumber":1})"},
      {"s1", "b1", "{" + b + R"(,"SOPInstanceUID":"1.2.2.1.1","InstanceNumber":1})"},
      {"s1", "b2", "{" + b + R"(,"SOPInstanceUID":"1.2.2.1.2","InstanceNumber":2})"},
      {"s1", "c1",
       "{" + person("P3", "Yamada^Tarou=山田^太郎=やまだ^たろう", "1.2.3", "20191231") +
           R"(,"PatientBirthDate":"19700707","StudyTime":"235959","AccessionNumber":"X_1%",)"
           R"("StudyDescription":"US Abdomen","SeriesInstanceUID":"1.2.3.1","Modality":"US",)"
           R"("SeriesNumber":3,"SOPInstanceUID":"1.2.3.1.1","SOPClassUID":"1.2.840.10008.5.1.4.1.1.6.1",)"
           R"("InstanceNumber":5})"},
      {"s1", "d1", "{" + d + "}"},
      {"s2", "d2", "{" + d + "}"},
      {"s1", "e1",
       "{" + person("P5'; DROP TABLE instances;--", "O'Brien^Seán", "1.2.5", "") +
           R"(,"AccessionNumber":"ACC5","SeriesInstanceUID":"1.2.5.1","Modality":"SR","SeriesNumber":1,)"
           R"("SOPInstanceUID":"1.2.5.1.1","SOPClassUID":"1.2.840.10008.5.1.4.1.1.88.11"})"},
      {"s1", "f1",
       "{" + person("P6", "Äneas^Rüdiger", "1.2.6", "20180101") +
           R"(,"SeriesInstanceUID":"1.2.6.1","Modality":"OT","SOPInstanceUID":"1.2.6.1.1"})"},
      {"s1", "g1",
       "{" + person("P7", "Διονυσιος", "1.2.7", "20220615") +
           R"(,"SeriesInstanceUID":"1.2.7.1","Modality":"DX","SeriesNumber":10,)"
           R"("SOPInstanceUID":"1.2.7.1.1","InstanceNumber":10})"},
  };
}

struct Case {
  std::string query;                  // the query JSON's members, without braces
  std::vector<std::string> expected;  // files (instance), or series / study UIDs; ignored for 400
  bool ordered = false;               // the order is part of the expectation
  bool refused = false;               // 400 (QueryError)
};

Case find(std::string query, std::vector<std::string> expected, bool ordered = false) {
  return {std::move(query), std::move(expected), ordered, false};
}
Case refuse(std::string query) {
  return {std::move(query), {}, false, true};
}

const std::vector<std::string> kAll = {"a1", "a2", "a3", "b1", "b2", "c1", "d1", "d2", "e1", "f1", "g1"};

std::vector<Case> cases() {
  const std::string f = R"("filters":)";
  return {
      // universal matching, exact values, value lists
      find("", kAll),
      find(f + R"({"PatientID":""})", kAll),
      find(f + R"({"PatientID":"*"})", kAll),
      find(f + R"({"PatientID":"P1"})", {"a1", "a2", "a3"}),
      find(f + R"({"PatientID":"p1"})", {}),  // case-sensitive, as DICOM matches LO
      find(f + R"({"PatientID":"P1\\P2"})", {"a1", "a2", "a3", "b1", "b2"}),
      // wildcards, and SQL metacharacters taken literally
      find(f + R"({"PatientID":"P*"})", kAll),
      find(f + R"({"PatientID":"P?"})", {"a1", "a2", "a3", "b1", "b2", "c1", "d1", "d2", "f1", "g1"}),
      find(f + R"({"PatientID":"P5'; DROP TABLE instances;--"})", {"e1"}),
      find(f + R"({"PatientID":"%"})", {}),
      find(f + R"({"AccessionNumber":"X_1%"})", {"c1"}),
      find(f + R"({"AccessionNumber":"X?1*"})", {"c1"}),
      find(f + R"({"AccessionNumber":"ACC_"})", {}),
      find(f + R"({"StudyDescription":"*Thorax"})", {"a1", "a2", "a3"}),
      find(f + R"({"InstitutionName":"Hôpital*"})", {"a1", "a2", "a3"}),
      // person names: per component, case- and accent-insensitive, every group
      find(f + R"({"PatientName":"müller*"})", {"a1", "a2", "a3", "b1", "b2"}),
      find(f + R"({"PatientName":"MULLER"})", {"a1", "a2", "a3", "b1", "b2"}),
      find(f + R"({"PatientName":"müller^k*"})", {"a1", "a2", "a3"}),
      find(f + R"({"PatientName":"*^anna"})", {"b1", "b2"}),
      find(f + R"({"PatientName":"mul"})", {}),
      find(f + R"({"PatientName":"yamada^tarou"})", {"c1"}),
      find(f + R"({"PatientName":"山田"})", {"c1"}),
      find(f + R"({"PatientName":"やまだ^たろう"})", {"c1"}),
      find(f + R"({"PatientName":"Yamada^Tarou=山田^太郎"})", {"c1"}),
      find(f + R"({"PatientName":"buc^jerome"})", {"d1", "d2"}),
      find(f + R"({"PatientName":"BUC^JÉRÔME"})", {"d1", "d2"}),
      find(f + R"({"PatientName":"o'brien^sean"})", {"e1"}),
      find(f + R"({"PatientName":"aneas^rudiger"})", {"f1"}),
      find(f + R"({"PatientName":"διονυσιος"})", {"g1"}),
      find(f + R"({"PatientName":"ΔΙΟΝΥΣΙΟΣ"})", {"g1"}),
      find(f + R"({"PatientName":"*"})", kAll),
      refuse(f + R"({"PatientName":"a^b^c^d^e^f"})"),
      find(f + R"({"ReferringPhysicianName":"smith"})", {"b1", "b2"}),
      // fuzzy matching: each query word begins a word of the name
      find(R"("fuzzymatching":true,)" + f + R"({"PatientName":"klaus"})", {"a1", "a2", "a3"}),
      find(R"("fuzzymatching":"true",)" + f + R"({"PatientName":"tar"})", {"c1"}),
      find(R"("fuzzymatching":true,)" + f + R"({"PatientName":"rud aneas"})", {"f1"}),
      find(R"("fuzzymatching":true,)" + f + R"({"PatientName":"JER"})", {"d1", "d2"}),
      find(R"("fuzzymatching":true,)" + f + R"({"PatientName":"rome"})", {}),
      // dates and times: exact, ranges, and what is not a date
      find(f + R"({"PatientBirthDate":"19600101"})", {"a1", "a2", "a3"}),
      find(f + R"({"StudyDate":"20200101-20201231"})", {"a1", "a2", "a3", "d1", "d2"}),
      find(f + R"({"StudyDate":"20200229"})", {"d1", "d2"}),
      find(f + R"({"StudyDate":"-20191231"})", {"c1", "f1"}),
      find(f + R"({"StudyDate":"20210101-"})", {"b1", "b2", "g1"}),
      refuse(f + R"({"StudyDate":"20200230"})"),
      refuse(f + R"({"StudyDate":"2020-13-45"})"),
      refuse(f + R"({"StudyDate":"20201231-20200101"})"),
      refuse(f + R"({"StudyDate":"2020*"})"),
      refuse(f + R"({"PatientBirthDate":"1960-1990"})"),
      find(f + R"({"StudyTime":"0900-1000"})", {"a1", "a2", "a3"}),
      find(f + R"({"StudyTime":"1415-1415"})", {"b1", "b2"}),
      refuse(f + R"({"StudyTime":"2400"})"),
      // UIDs: exact or a list, never wildcards
      find(f + R"({"StudyInstanceUID":"1.2.1"})", {"a1", "a2", "a3"}),
      find(f + R"({"StudyInstanceUID":"1.2.1\\1.2.2"})", {"a1", "a2", "a3", "b1", "b2"}),
      refuse(f + R"({"StudyInstanceUID":"1.2.*"})"),
      refuse(f + R"({"SOPInstanceUID":"1.2' OR '1'='1"})"),
      find(f + R"({"SOPInstanceUID":"1.2.4.1.1"})", {"d1", "d2"}),
      // series and instance keys, integers, dicomd's own names
      find(f + R"({"Modality":"MR"})", {"a3", "b1", "b2"}),
      find(f + R"({"Modality":"C?"})", {"a1", "a2", "d1", "d2"}),
      find(f + R"({"SeriesNumber":"2"})", {"a3"}),
      refuse(f + R"({"SeriesNumber":"abc"})"),
      find(f + R"({"InstanceNumber":"1\\2"})", {"a1", "a2", "a3", "b1", "b2", "d1", "d2"}),
      find(f + R"({"BodyPartExamined":"HEAD"})", {"a3", "b1", "b2"}),
      find(f + R"({"study":"s2"})", {"d2"}),
      find(f + R"({"file":"a*"})", {"a1", "a2", "a3"}),
      find(f + R"({"ModalitiesInStudy":"CT"})", {"a1", "a2", "a3"}),
      // the study and series levels
      find(R"("level":"study")", {"1.2.1", "1.2.2", "1.2.3", "1.2.4", "1.2.5", "1.2.6", "1.2.7"}),
      find(R"("level":"series")",
           {"1.2.1.1", "1.2.1.2", "1.2.2.1", "1.2.3.1", "1.2.4.1", "1.2.5.1", "1.2.6.1", "1.2.7.1"}),
      find(R"("level":"study",)" + f + R"({"ModalitiesInStudy":"MR"})", {"1.2.1", "1.2.2"}),
      find(R"("level":"study",)" + f + R"({"ModalitiesInStudy":"CR\\US"})", {"1.2.3", "1.2.4"}),
      find(R"("level":"study",)" + f + R"({"Modality":"CR"})", {"1.2.4"}),
      find(R"("level":"study",)" + f + R"({"SOPClassUID":"1.2.840.10008.5.1.4.1.1.88.11"})", {"1.2.5"}),
      find(R"("level":"study",)" + f + R"({"PatientName":"müller*"})", {"1.2.1", "1.2.2"}),
      find(R"("level":"series",)" + f + R"({"PatientID":"P1"})", {"1.2.1.1", "1.2.1.2"}),
      find(R"("level":"series",)" + f + R"({"InstanceNumber":"2"})", {"1.2.1.1", "1.2.2.1"}),
      find(R"("level":"study",)" + f + R"({"file":"d2"})", {"1.2.4"}),
      // order and pages: StudyDate descending by default, missing dates last
      find(R"("level":"study")", {"1.2.7", "1.2.2", "1.2.4", "1.2.1", "1.2.3", "1.2.6", "1.2.5"}, true),
      find(R"("level":"study","orderby":"StudyDate")", {"1.2.6", "1.2.3", "1.2.1", "1.2.4", "1.2.2", "1.2.7", "1.2.5"},
           true),
      find(R"("level":"study","limit":2,"offset":2)", {"1.2.4", "1.2.1"}, true),
      find(R"("level":"study","limit":"2","offset":"100")", {}, true),
      find(R"("orderby":["PatientID","-InstanceNumber"],)" + f + R"({"PatientID":"P1"})", {"a2", "a1", "a3"}, true),
      find(R"("orderby":"-SOPInstanceUID",)" + f + R"({"Modality":"C?"})", {"d1", "d2", "a2", "a1"}, true),
      refuse(R"("orderby":"Bogus")"),
      refuse(R"("level":"study","orderby":"SOPInstanceUID")"),
      refuse(R"("orderby":"StudyDate;DROP TABLE instances")"),
      refuse(R"("orderby":"StudyDate,StudyDate")"),
      // what the query cannot be
      refuse(R"("limit":1001)"),
      refuse(R"("limit":-1)"),
      refuse(R"("limit":1000000000)"),
      refuse(R"("offset":"abc")"),
      refuse(R"("level":"patient")"),
      refuse(R"("fuzzymatching":"yes")"),
      refuse(f + R"({"Bogus":"1"})"),
      refuse(f + R"({"patientid":"P1"})"),
      refuse(f + R"({"PatientID":")" + std::string(10000, 'x') + "\"}"),
      refuse(f + "{\"PatientID\":\"P\xff\"}"),
      refuse(f + R"({"PatientID":"P\u0001"})"),
      refuse(R"("limit":1,"limit":2)"),
      refuse(R"("select":"*")"),
  };
}

// The identities of an answer's results: files, or series / study UIDs.
std::vector<std::string> ids_of(const rapidjson::Document& answer) {
  std::string level = answer["level"].GetString();
  const char* key = level == "instance" ? "file" : level == "series" ? "SeriesInstanceUID" : "StudyInstanceUID";
  std::vector<std::string> out;
  for (const auto& r : answer["results"].GetArray()) out.emplace_back(r[key].GetString());
  return out;
}

std::unique_ptr<SqlDatabase> open_backend(const std::string& backend, const std::filesystem::path& dir) {
  if (backend == "postgres") return std::make_unique<PgDatabase>(dicomd::test::fresh_pg_database());
  return std::make_unique<SqliteDatabase>(dir / "index.sqlite3", [](const std::string&) {});
}

class SearchConformance : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    db_ = open_backend(GetParam(), dir_.path());
    store_ = std::make_unique<IndexStore>(*db_);
    store_->create_schema();
    for (const auto& f : corpus()) store_->upsert({f.study, f.file, "hash-" + f.file, f.attrs});
  }
  rapidjson::Document search(const std::string& members) {
    rapidjson::Document d;
    d.Parse(store_->search(parse_search_query("{" + members + "}")).c_str());
    return d;
  }

  dicomd::test::TempDir dir_;
  std::unique_ptr<SqlDatabase> db_;
  std::unique_ptr<IndexStore> store_;
};

TEST_P(SearchConformance, EveryMatchingRule) {
  auto all = cases();
  ASSERT_GE(all.size(), 60u);
  for (const auto& c : all) {
    SCOPED_TRACE("query {" + c.query.substr(0, 200) + "}");
    if (c.refused) {
      EXPECT_THROW(search(c.query), QueryError);
      continue;
    }
    auto answer = search(c.query);
    ASSERT_TRUE(answer.IsObject());
    auto ids = ids_of(answer);
    auto expected = c.expected;
    if (!c.ordered) {
      std::sort(ids.begin(), ids.end());
      std::sort(expected.begin(), expected.end());
      EXPECT_EQ(answer["total"].GetInt64(), static_cast<int64_t>(expected.size()));
    }
    EXPECT_EQ(ids, expected);
  }
  EXPECT_EQ(store_->count(), 11u);  // no query dropped anything
}

TEST_P(SearchConformance, StudyAndSeriesRowsCarryTheirCountsAndStudies) {
  auto study = search(R"("level":"study","filters":{"StudyInstanceUID":"1.2.1"})");
  const auto& s = study["results"][0];
  EXPECT_EQ(s["NumberOfStudyRelatedSeries"].GetInt(), 2);
  EXPECT_EQ(s["NumberOfStudyRelatedInstances"].GetInt(), 3);
  EXPECT_STREQ(s["ModalitiesInStudy"][0].GetString(), "CT");
  EXPECT_STREQ(s["ModalitiesInStudy"][1].GetString(), "MR");
  EXPECT_STREQ(s["PatientName"].GetString(), "MÜLLER^Klaus");  // valued as stored, not folded
  EXPECT_FALSE(s.HasMember("SOPInstanceUID"));                 // only its own level's keys

  auto series = search(R"("level":"series","filters":{"SeriesInstanceUID":"1.2.4.1"})");
  const auto& r = series["results"][0];
  EXPECT_EQ(r["NumberOfSeriesRelatedInstances"].GetInt(), 2);
  ASSERT_EQ(r["studies"].Size(), 2u);
  EXPECT_STREQ(r["studies"][1].GetString(), "s2");
  EXPECT_STREQ(r["StudyInstanceUID"].GetString(), "1.2.4");

  auto instance = search(R"("filters":{"file":"a1"})");
  const auto& i = instance["results"][0];
  EXPECT_STREQ(i["study"].GetString(), "s1");
  EXPECT_EQ(i["SeriesNumber"].GetInt(), 1);
  EXPECT_FALSE(i.HasMember("ModalitiesInStudy"));
}

TEST_P(SearchConformance, RemovingAndReindexingAFileUpdatesEveryLevel) {
  store_->remove("s2", "d2");
  auto sop = search(R"("filters":{"SOPInstanceUID":"1.2.4.1.1"})");
  EXPECT_EQ(ids_of(sop), std::vector<std::string>{"d1"});
  auto series = search(R"("level":"series","filters":{"SeriesInstanceUID":"1.2.4.1"})");
  EXPECT_EQ(series["results"][0]["NumberOfSeriesRelatedInstances"].GetInt(), 1);
  EXPECT_EQ(series["results"][0]["studies"].Size(), 1u);

  store_->remove("s1", "d1");  // the study's last file: its study and series rows go
  EXPECT_EQ(search(R"("level":"study","filters":{"StudyInstanceUID":"1.2.4"})")["total"].GetInt(), 0);
  EXPECT_EQ(search(R"("level":"series","filters":{"SeriesInstanceUID":"1.2.4.1"})")["total"].GetInt(), 0);
  EXPECT_EQ(search(R"("filters":{"PatientName":"buc"})")["total"].GetInt(), 0);

  // Stored again with other content: the old values are gone everywhere.
  store_->upsert(
      {"s1", "a1", "hash-new",
       R"({"PatientID":"P9","PatientName":"New^Name","StudyInstanceUID":"1.2.9","SeriesInstanceUID":"1.2.9.1",)"
       R"("Modality":"MG","SOPInstanceUID":"1.2.9.1.1"})"});
  EXPECT_EQ(ids_of(search(R"("filters":{"PatientID":"P9"})")), std::vector<std::string>{"a1"});
  EXPECT_EQ(search(R"("filters":{"PatientName":"müller^klaus"})")["total"].GetInt(), 2);
  auto old_study = search(R"("level":"study","filters":{"StudyInstanceUID":"1.2.1"})");
  EXPECT_EQ(old_study["results"][0]["NumberOfStudyRelatedInstances"].GetInt(), 2);
  EXPECT_EQ(store_->indexed().at({"s1", "a1"}), "hash-new");
  EXPECT_EQ(store_->count(), 9u);  // d1 and d2 removed
}

// A file of study 9.9.<study>, series 9.9.<study>.<series>.
InstanceRecord grouped(const std::string& folder, const std::string& file, int study, int series,
                       const std::string& modality, const std::string& description = "d") {
  std::string uid = "9.9." + std::to_string(study);
  return {folder, file, "hash-" + file + modality + description,
          R"({"PatientID":"G","StudyInstanceUID":")" + uid + R"(","SeriesInstanceUID":")" + uid + "." +
              std::to_string(series) + R"(","Modality":")" + modality + R"(","SeriesDescription":")" + description +
              R"(","SOPInstanceUID":")" + uid + ".0." + file + "\"}"};
}

TEST_P(SearchConformance, AGroupShowsItsFirstFileUntilThatFileLeaves) {
  store_->upsert(grouped("g", "f1", 1, 1, "CT", "first"));
  store_->upsert(grouped("g", "f2", 1, 1, "MR", "second"));
  store_->upsert(grouped("h", "f3", 1, 2, "CT"));
  auto series = [&] { return search(R"("level":"series","filters":{"SeriesInstanceUID":"9.9.1.1"})"); };
  auto study = [&] { return search(R"("level":"study","filters":{"StudyInstanceUID":"9.9.1"})"); };
  EXPECT_STREQ(series()["results"][0]["SeriesDescription"].GetString(), "first");
  EXPECT_EQ(series()["results"][0]["NumberOfSeriesRelatedInstances"].GetInt(), 2);
  EXPECT_EQ(study()["results"][0]["NumberOfStudyRelatedSeries"].GetInt(), 2);
  EXPECT_EQ(study()["results"][0]["studies"].Size(), 2u);

  store_->upsert(grouped("g", "f1", 1, 1, "CT", "first, again"));  // the first file changes: the row follows
  EXPECT_STREQ(series()["results"][0]["SeriesDescription"].GetString(), "first, again");
  store_->remove("g", "f1");  // the first file leaves: the next one stands for the series
  EXPECT_STREQ(series()["results"][0]["SeriesDescription"].GetString(), "second");
  EXPECT_EQ(series()["results"][0]["NumberOfSeriesRelatedInstances"].GetInt(), 1);
  EXPECT_EQ(search(R"("level":"series","filters":{"SeriesDescription":"first*"})")["total"].GetInt(), 0);

  store_->upsert(grouped("g", "f2", 1, 2, "MR"));  // moved to the other series: the first one goes
  EXPECT_EQ(series()["total"].GetInt(), 0);
  auto answer = study();  // kept: the row below points into it
  const auto& s = answer["results"][0];
  EXPECT_EQ(s["NumberOfStudyRelatedSeries"].GetInt(), 1);
  EXPECT_EQ(s["NumberOfStudyRelatedInstances"].GetInt(), 2);
  EXPECT_EQ(s["ModalitiesInStudy"].Size(), 2u);
}

// Random upserts, moves and removals; then every series and study row holds
// the counts and lists a count over the files gives.
TEST_P(SearchConformance, GroupCountsMatchTheFilesAfterEveryKindOfChange) {
  struct Placed {
    std::string folder;
    int study, series;
    std::string modality;
  };
  std::map<std::string, Placed> files;
  std::mt19937 random(7);
  const char* modalities[] = {"CT", "MR", "US"};
  for (int step = 0; step < 300; ++step) {
    std::string file = std::to_string(random() % 24);
    file.insert(0, 1, 'r');  // not "r" + string: GCC 12 warns (wrongly) on it
    std::string folder = random() % 2 ? "x" : "y";
    auto it = files.find(file);
    if (it != files.end() && random() % 4 == 0) {
      store_->remove(it->second.folder, file);
      files.erase(it);
      continue;
    }
    if (it != files.end()) folder = it->second.folder;  // the same file, stored again with other values
    Placed p{folder, 1 + static_cast<int>(random() % 2), 1 + static_cast<int>(random() % 3), modalities[random() % 3]};
    store_->upsert(grouped(p.folder, file, p.study, p.series, p.modality));
    files[file] = p;
  }
  for (int study = 1; study <= 2; ++study) {
    std::set<std::string> series, modality_set, folders;
    int instances = 0;
    for (const auto& [file, p] : files) {
      if (p.study != study) continue;
      ++instances;
      series.insert(std::to_string(p.series));
      modality_set.insert(p.modality);
      folders.insert(p.folder);
    }
    auto d = search(R"("level":"study","filters":{"StudyInstanceUID":"9.9.)" + std::to_string(study) + "\"}");
    SCOPED_TRACE("study " + std::to_string(study));
    ASSERT_EQ(d["total"].GetInt(), instances ? 1 : 0);
    if (!instances) continue;
    const auto& row = d["results"][0];
    EXPECT_EQ(row["NumberOfStudyRelatedInstances"].GetInt(), instances);
    EXPECT_EQ(row["NumberOfStudyRelatedSeries"].GetInt(), static_cast<int>(series.size()));
    std::vector<std::string> listed;
    for (const auto& m : row["ModalitiesInStudy"].GetArray()) listed.emplace_back(m.GetString());
    EXPECT_EQ(listed, std::vector<std::string>(modality_set.begin(), modality_set.end()));
    listed.clear();
    for (const auto& f : row["studies"].GetArray()) listed.emplace_back(f.GetString());
    EXPECT_EQ(listed, std::vector<std::string>(folders.begin(), folders.end()));
    for (const auto& uid : series) {
      int in_series = 0;
      for (const auto& [file, p] : files) in_series += p.study == study && std::to_string(p.series) == uid;
      auto r = search(R"("level":"series","filters":{"SeriesInstanceUID":"9.9.)" + std::to_string(study) + "." + uid +
                      "\"}");
      ASSERT_EQ(r["total"].GetInt(), 1);
      EXPECT_EQ(r["results"][0]["NumberOfSeriesRelatedInstances"].GetInt(), in_series);
    }
  }
}

// Writers at once share transactions (group commit); a change the index
// refuses fails its own caller only, and every other change is kept.
TEST_P(SearchConformance, ChangesMadeAtOnceShareTransactionsAndFailAlone) {
  constexpr int kWriters = 8, kEach = 15;
  std::atomic<int> refused{0}, wrong{0};
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w)
    writers.emplace_back([&, w] {
      for (int i = 0; i < kEach; ++i) {
        const bool bad = (w * kEach + i) % 23 == 5;  // 5 of the 120
        InstanceRecord r = grouped("w", std::to_string(w) + "-" + std::to_string(i), 1 + w % 2, 1 + i % 3, "CT");
        if (bad) r.attributes_json = "not json";
        try {
          store_->upsert(r);
          if (bad) ++wrong;
        } catch (const QueryError&) {
          ++refused;
          if (!bad) ++wrong;
        }
      }
    });
  for (auto& t : writers) t.join();
  EXPECT_EQ(refused.load(), 5);
  EXPECT_EQ(wrong.load(), 0) << "a change failed for another's fault, or a bad one was kept";
  EXPECT_EQ(store_->count(), 11u + kWriters * kEach - 5);
  auto studies = search(R"("level":"study","filters":{"StudyInstanceUID":"9.9.1\\9.9.2"})");
  int64_t instances = 0;
  for (const auto& row : studies["results"].GetArray()) instances += row["NumberOfStudyRelatedInstances"].GetInt64();
  EXPECT_EQ(instances, kWriters * kEach - 5);
}

INSTANTIATE_TEST_SUITE_P(Backends, SearchConformance, ::testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

}  // namespace
