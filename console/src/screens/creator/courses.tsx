// The creator's courses by status, and the form for a new one (a draft, opened in the
// editor once made). The API's userErrors appear beside the fields they name.
import { useMemo, useState, type FormEvent } from "react";
import { useMutation, useQuery } from "urql";
import { Link, useLocation } from "wouter";
import { CreateCourseDocument, MyCoursesDocument, type CourseStatus } from "../../gql/graphql";
import { formatTime, yuanToFen } from "../../lib/format";
import { useT } from "../../lib/i18n";
import { session } from "../../lib/session";
import { FIRST_PAGE, pageArgs, useUrlState } from "../../lib/url";
import { errorFor, Field, FormErrors, formErrors, PageHeader, Pager, QueryState, type ApiUserError } from "../../ui/kit";
import { CourseStatusBadge } from "../../ui/status";

const PAGE_SIZE = 20;
const STATUSES: CourseStatus[] = ["DRAFT", "PUBLISHED", "ARCHIVED"];

export default function CreatorCourses() {
  const t = useT();
  const [params, update] = useUrlState();
  const creator = session()?.viewer.creatorId ?? "";
  const asked = params.get("status");
  const status: CourseStatus = asked && (STATUSES as string[]).includes(asked) ? (asked as CourseStatus) : "DRAFT";
  // An empty list names no Course type: a new course must still refresh it.
  const context = useMemo(() => ({ additionalTypenames: ["Course"] }), []);
  const [result] = useQuery({
    query: MyCoursesDocument,
    variables: { creator, status, ...pageArgs(params, PAGE_SIZE) },
    context,
  });
  const courses = result.data?.courses;
  const creating = params.get("new") === "1";
  return (
    <section>
      <PageHeader title={t("courses.mine")}>
        <button type="button" className="primary" onClick={() => update({ new: creating ? null : "1" })}>
          {t("courses.new")}
        </button>
      </PageHeader>
      {creating && <NewCourseForm />}
      <nav className="tabs">
        {STATUSES.map((value) => (
          <button
            key={value}
            type="button"
            className={value === status ? "active" : ""}
            onClick={() => update({ status: value, ...FIRST_PAGE })}
          >
            {t(`courseStatus.${value}`)}
          </button>
        ))}
      </nav>
      <QueryState fetching={result.fetching} error={result.error} hasData={!!courses} />
      {courses && (
        <>
          <table className="list" data-testid="my-courses">
            <thead>
              <tr>
                <th>{t("courses.name")}</th>
                <th className="number">{t("courses.priceYuan")}</th>
                <th className="number">{t("courses.sales")}</th>
                <th>{t("courses.status")}</th>
                <th>{t("app.createdAt")}</th>
              </tr>
            </thead>
            <tbody>
              {courses.nodes.map((course) => (
                <tr key={course.id}>
                  <td>
                    <Link href={`/creator/courses/${encodeURIComponent(course.id)}`}>{course.title}</Link>
                  </td>
                  <td className="number">{course.price.formatted}</td>
                  <td className="number">{course.salesCount}</td>
                  <td>
                    <CourseStatusBadge status={course.status} />
                  </td>
                  <td>{formatTime(course.createdAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {courses.nodes.length === 0 && <p className="muted">{t("app.empty")}</p>}
          <Pager pageInfo={courses.pageInfo} totalCount={courses.totalCount} onPage={update} />
        </>
      )}
    </section>
  );
}

const FIELDS = ["title", "subtitle", "category", "priceFen", "coverUrl", "description"] as const;

/** A new draft: the fields `createCourse` takes; price typed in yuan. */
function NewCourseForm() {
  const t = useT();
  const [, navigate] = useLocation();
  const [values, setValues] = useState<Record<(typeof FIELDS)[number], string>>({
    title: "",
    subtitle: "",
    category: "",
    priceFen: "",
    coverUrl: "",
    description: "",
  });
  const [errors, setErrors] = useState<readonly ApiUserError[]>([]);
  const [state, create] = useMutation(CreateCourseDocument);
  const set = (name: (typeof FIELDS)[number]) => (event: { target: { value: string } }) =>
    setValues((old) => ({ ...old, [name]: event.target.value }));

  async function submit(event: FormEvent) {
    event.preventDefault();
    const priceFen = yuanToFen(values.priceFen || "0");
    if (priceFen === null) {
      setErrors([{ field: ["input", "priceFen"], message: t("orders.badAmount") }]);
      return;
    }
    const result = await create({
      input: {
        title: values.title,
        subtitle: values.subtitle || null,
        category: values.category,
        priceFen,
        coverUrl: values.coverUrl || null,
        description: values.description || null,
      },
    });
    const payload = result.data?.createCourse;
    setErrors(payload?.userErrors ?? []);
    if (payload?.course) navigate(`/creator/courses/${encodeURIComponent(payload.course.id)}`);
  }

  return (
    <form className="panel form-grid" onSubmit={submit} data-testid="new-course">
      <Field label={t("courses.name")} error={errorFor(errors, "title")}>
        <input name="title" value={values.title} onChange={set("title")} />
      </Field>
      <Field label={t("courses.subtitle")} error={errorFor(errors, "subtitle")}>
        <input name="subtitle" value={values.subtitle} onChange={set("subtitle")} />
      </Field>
      <Field label={t("courses.category")} error={errorFor(errors, "category")}>
        <input name="category" value={values.category} onChange={set("category")} />
      </Field>
      <Field label={t("courses.priceYuan")} error={errorFor(errors, "priceFen")}>
        <input name="price" inputMode="decimal" value={values.priceFen} onChange={set("priceFen")} />
      </Field>
      <Field label={t("courses.cover")} error={errorFor(errors, "coverUrl")} wide>
        <input name="coverUrl" value={values.coverUrl} onChange={set("coverUrl")} />
      </Field>
      <Field label={t("courses.description")} error={errorFor(errors, "description")} wide>
        <textarea name="description" rows={4} value={values.description} onChange={set("description")} />
      </Field>
      <FormErrors errors={formErrors(errors, FIELDS)} />
      <div className="filter-actions">
        <button type="submit" className="primary" disabled={state.fetching}>
          {t("courses.create")}
        </button>
      </div>
    </form>
  );
}
