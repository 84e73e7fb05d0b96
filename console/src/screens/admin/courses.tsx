// Courses (admins): the whole catalogue in any status, searchable; suspend a course
// (archived, and its creator cannot republish it) or restore it.
import { useState } from "react";
import { useMutation, useQuery } from "urql";
import { AdminCoursesDocument, RestoreCourseDocument, SuspendCourseDocument } from "../../gql/graphql";
import type { CourseFilter, CourseStatus } from "../../gql/graphql";
import { useT } from "../../lib/i18n";
import { FIRST_PAGE, pageArgs, useUrlState } from "../../lib/url";
import { Badge, Field, FormErrors, PageHeader, Pager, QueryState, type ApiUserError } from "../../ui/kit";
import { SearchForm } from "../../ui/search";
import { CourseStatusBadge } from "../../ui/status";

const PAGE_SIZE = 20;
const STATUSES: CourseStatus[] = ["PUBLISHED", "DRAFT", "ARCHIVED"];

export default function AdminCourses() {
  const t = useT();
  const [params, update] = useUrlState();
  const status = params.get("status");
  const filter: CourseFilter = {
    status: status && (STATUSES as string[]).includes(status) ? (status as CourseStatus) : "PUBLISHED",
    titleContains: params.get("q") || null,
  };
  const [result] = useQuery({ query: AdminCoursesDocument, variables: { filter, ...pageArgs(params, PAGE_SIZE) } });
  const courses = result.data?.courses;


  return (
    <section>
      <PageHeader title={t("courses.title")} />
      <SearchForm label={t("courses.name")}>
        <Field label={t("courses.status")}>
          <select name="status" value={filter.status ?? ""} onChange={(e) => update({ status: e.target.value, ...FIRST_PAGE })}>
            {STATUSES.map((value) => (
              <option key={value} value={value}>
                {t(`courseStatus.${value}`)}
              </option>
            ))}
          </select>
        </Field>
      </SearchForm>
      <QueryState fetching={result.fetching} error={result.error} hasData={!!courses} />
      {courses && (
        <>
          <table className="list" data-testid="courses">
            <thead>
              <tr>
                <th>{t("courses.name")}</th>
                <th>{t("courses.creator")}</th>
                <th className="number">{t("courses.priceYuan")}</th>
                <th className="number">{t("courses.sales")}</th>
                <th>{t("courses.status")}</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {courses.nodes.map((course) => (
                <CourseRow key={course.id} course={course} />
              ))}
            </tbody>
          </table>
          <Pager pageInfo={courses.pageInfo} totalCount={courses.totalCount} onPage={update} />
        </>
      )}
    </section>
  );
}

/** One course with the moderation action that applies to it. */
function CourseRow(props: {
  course: {
    id: string;
    title: string;
    status: CourseStatus;
    suspendedAt: string | null;
    salesCount: number;
    price: { formatted: string };
    creator: { displayName: string };
  };
}) {
  const t = useT();
  const { course } = props;
  const [errors, setErrors] = useState<readonly ApiUserError[]>([]);
  const [suspending, suspend] = useMutation(SuspendCourseDocument);
  const [restoring, restore] = useMutation(RestoreCourseDocument);
  const busy = suspending.fetching || restoring.fetching;
  return (
    <tr>
      <td>{course.title}</td>
      <td>{course.creator.displayName}</td>
      <td className="number">{course.price.formatted}</td>
      <td className="number">{course.salesCount}</td>
      <td>
        <CourseStatusBadge status={course.status} />{" "}
        {course.suspendedAt && <Badge tone="bad">{t("courses.suspended")}</Badge>}
      </td>
      <td className="row-actions">
        {course.suspendedAt ? (
          <button
            type="button"
            disabled={busy}
            onClick={async () => setErrors((await restore({ course: course.id })).data?.restoreCourse.userErrors ?? [])}
          >
            {t("courses.restore")}
          </button>
        ) : (
          <button
            type="button"
            className="danger"
            disabled={busy}
            onClick={async () => setErrors((await suspend({ course: course.id })).data?.suspendCourse.userErrors ?? [])}
          >
            {t("courses.suspend")}
          </button>
        )}
        <FormErrors errors={errors} />
      </td>
    </tr>
  );
}
