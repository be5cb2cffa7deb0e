/**
 * Glance's JSON schemas (`glance/api/v2/images.py:get_schema`,
 * `metadef_namespaces.py`, `image_members.py`), served at `/v2/schemas/…`:
 * glanceclient reads `schemas/image` before any image call (its warlock
 * models are built from it) and `schemas/metadefs/namespace` before a
 * namespace list (Horizon's image and volume forms).
 */
const nullable = (type: string, extra: Record<string, unknown> = {}) => ({ type: ['null', type], ...extra });
const ro = (schema: Record<string, unknown>) => ({ ...schema, readOnly: true });

const IMAGE_PROPERTIES: Record<string, unknown> = {
  id: {
    type: 'string',
    description: 'An identifier for the image',
    pattern: '^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$',
  },
  name: nullable('string', { description: 'Descriptive name for the image', maxLength: 255 }),
  status: ro({
    type: 'string',
    description: 'Status of the image',
    enum: ['queued', 'saving', 'active', 'killed', 'deleted', 'uploading', 'importing', 'pending_delete', 'deactivated'],
  }),
  visibility: { type: 'string', description: 'Scope of image accessibility', enum: ['community', 'public', 'private', 'shared'] },
  protected: { type: 'boolean', description: 'If true, image will not be deletable.' },
  os_hidden: { type: 'boolean', description: 'If true, image will not appear in default image list response.' },
  checksum: ro(nullable('string', { description: 'md5 hash of image contents.', maxLength: 32 })),
  os_hash_algo: ro(nullable('string', { description: 'Algorithm to calculate the os_hash_value', maxLength: 64 })),
  os_hash_value: ro(
    nullable('string', {
      description: 'Hexdigest of the image contents using the algorithm specified by the os_hash_algo',
      maxLength: 128,
    }),
  ),
  owner: nullable('string', { description: 'Owner of the image', maxLength: 255 }),
  size: ro(nullable('integer', { description: 'Size of image file in bytes' })),
  virtual_size: ro(nullable('integer', { description: 'Virtual size of image in bytes' })),
  container_format: {
    type: ['null', 'string'],
    description: 'Format of the container',
    enum: [null, 'ami', 'ari', 'aki', 'bare', 'ovf', 'ova', 'docker', 'compressed'],
  },
  disk_format: {
    type: ['null', 'string'],
    description: 'Format of the disk',
    enum: [null, 'ami', 'ari', 'aki', 'vhd', 'vhdx', 'vmdk', 'raw', 'qcow2', 'vdi', 'iso', 'ploop'],
  },
  created_at: ro({ type: 'string', description: 'Date and time of image registration' }),
  updated_at: ro({ type: 'string', description: 'Date and time of the last image modification' }),
  tags: { type: 'array', description: 'List of strings related to the image', items: { type: 'string', maxLength: 255 } },
  direct_url: ro({ type: 'string', description: 'URL to access the image file kept in external store' }),
  min_ram: { type: 'integer', description: 'Amount of ram (in MB) required to boot image.' },
  min_disk: { type: 'integer', description: 'Amount of disk space (in GB) required to boot image.' },
  self: ro({ type: 'string', description: 'An image self url' }),
  file: ro({ type: 'string', description: 'An image file url' }),
  stores: ro({
    type: 'string',
    description: 'Store in which image data resides.  Only present when the operator has enabled multiple stores.',
  }),
  schema: ro({ type: 'string', description: 'An image schema url' }),
  locations: {
    type: 'array',
    items: {
      type: 'object',
      properties: { url: { type: 'string', maxLength: 255 }, metadata: { type: 'object' }, validation_data: { type: 'object' } },
      required: ['url', 'metadata'],
    },
    description: 'A set of URLs to access the image file kept in external store',
  },
  kernel_id: nullable('string', {
    pattern: '^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$',
    description: 'ID of image stored in Glance that should be used as the kernel when booting an AMI-style image.',
    is_base: false,
  }),
  ramdisk_id: nullable('string', {
    pattern: '^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$',
    description: 'ID of image stored in Glance that should be used as the ramdisk when booting an AMI-style image.',
    is_base: false,
  }),
  instance_uuid: {
    type: 'string',
    description:
      'Metadata which can be used to record which instance this image is associated with. (Informational only, does not create an instance snapshot.)',
    is_base: false,
  },
  architecture: {
    type: 'string',
    description:
      'Operating system architecture as specified in https://docs.openstack.org/python-glanceclient/latest/cli/property-keys.html',
    is_base: false,
  },
  os_distro: {
    type: 'string',
    description:
      'Common name of operating system distribution as specified in https://docs.openstack.org/python-glanceclient/latest/cli/property-keys.html',
    is_base: false,
  },
  os_version: { type: 'string', description: 'Operating system version as specified by the distributor.', is_base: false },
  description: { type: 'string', description: 'A human-readable string describing this image.', is_base: false },
  cim_pasd_processorArchitecture: { type: 'string', is_base: false },
  block_device_mapping: { type: 'string', is_base: false },
  bdm_v2: { type: 'string', is_base: false },
  root_device_name: { type: 'string', is_base: false },
};

const IMAGE_LINKS = [
  { rel: 'self', href: '{self}' },
  { rel: 'enclosure', href: '{file}' },
  { rel: 'describedby', href: '{schema}' },
];

export function imageSchema() {
  return { name: 'image', properties: IMAGE_PROPERTIES, additionalProperties: { type: 'string' }, links: IMAGE_LINKS };
}

const collection = (name: string, item: Record<string, unknown>) => ({
  name: `${name}s`,
  properties: {
    [`${name}s`]: { type: 'array', items: item },
    schema: { type: 'string' },
    first: { type: 'string' },
    next: { type: 'string' },
  },
  links: [
    { rel: 'first', href: '{first}' },
    { rel: 'next', href: '{next}' },
    { rel: 'describedby', href: '{schema}' },
  ],
});

export function imagesSchema() {
  return collection('image', imageSchema());
}

export function memberSchema() {
  return {
    name: 'member',
    properties: {
      created_at: { type: 'string', description: 'Date and time of image member creation' },
      image_id: {
        type: 'string',
        description: 'An identifier for the image',
        pattern: '^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$',
      },
      member_id: { type: 'string', description: 'An identifier for the image member (tenantId)' },
      status: { type: 'string', description: 'The status of this image member', enum: ['pending', 'accepted', 'rejected'] },
      updated_at: { type: 'string', description: 'Date and time of last modification of image member' },
      schema: { type: 'string', readOnly: true },
    },
  };
}

export function membersSchema() {
  return {
    name: 'members',
    properties: { members: { type: 'array', items: memberSchema() }, schema: { type: 'string' } },
    links: [{ rel: 'describedby', href: '{schema}' }],
  };
}

const NAMESPACE_DEFINITIONS = {
  positiveInteger: { type: 'integer', minimum: 0 },
  positiveIntegerDefault0: { allOf: [{ $ref: '#/definitions/positiveInteger' }, { default: 0 }] },
  stringArray: { type: 'array', items: { type: 'string' }, uniqueItems: true },
  property: {
    type: 'object',
    additionalProperties: {
      type: 'object',
      required: ['title', 'type'],
      properties: {
        name: { type: 'string', maxLength: 80 },
        title: { type: 'string' },
        description: { type: 'string' },
        operators: { type: 'array', items: { type: 'string' } },
        type: { type: 'string', enum: ['array', 'boolean', 'integer', 'number', 'object', 'string', null] },
        required: { $ref: '#/definitions/stringArray' },
        minimum: { type: 'number' },
        maximum: { type: 'number' },
        maxLength: { $ref: '#/definitions/positiveInteger' },
        minLength: { $ref: '#/definitions/positiveIntegerDefault0' },
        pattern: { type: 'string', format: 'regex' },
        enum: { type: 'array' },
        readonly: { type: 'boolean' },
        default: {},
        items: {
          type: 'object',
          properties: {
            type: { type: 'string', enum: ['array', 'boolean', 'integer', 'number', 'object', 'string', null] },
            enum: { type: 'array' },
          },
        },
        maxItems: { $ref: '#/definitions/positiveInteger' },
        minItems: { $ref: '#/definitions/positiveIntegerDefault0' },
        uniqueItems: { type: 'boolean', default: false },
        additionalItems: { type: 'boolean' },
      },
    },
  },
};

export function namespaceSchema() {
  return {
    name: 'namespace',
    properties: {
      namespace: { type: 'string', description: 'The unique namespace text.', maxLength: 80 },
      display_name: { type: 'string', description: 'The user friendly name for the namespace. Used by UI if available.', maxLength: 80 },
      description: { type: 'string', description: 'Provides a user friendly description of the namespace.', maxLength: 500 },
      visibility: { type: 'string', description: 'Scope of namespace accessibility.', enum: ['public', 'private'] },
      protected: { type: 'boolean', description: 'If true, namespace will not be deletable.' },
      owner: { type: 'string', description: 'Owner of the namespace.', maxLength: 255 },
      created_at: { type: 'string', readOnly: true, description: 'Date and time of namespace creation', format: 'date-time' },
      updated_at: { type: 'string', readOnly: true, description: 'Date and time of the last namespace modification', format: 'date-time' },
      schema: { readOnly: true, type: 'string' },
      self: { readOnly: true, type: 'string' },
      resource_type_associations: {
        type: 'array',
        items: {
          type: 'object',
          properties: { name: { type: 'string' }, prefix: { type: 'string' }, properties_target: { type: 'string' } },
        },
      },
      properties: { $ref: '#/definitions/property' },
      objects: {
        type: 'array',
        items: {
          type: 'object',
          properties: {
            name: { type: 'string' },
            description: { type: 'string' },
            required: { $ref: '#/definitions/stringArray' },
            properties: { $ref: '#/definitions/property' },
          },
        },
      },
      tags: { type: 'array', items: { type: 'object', properties: { name: { type: 'string' } } } },
    },
    additionalProperties: false,
    definitions: NAMESPACE_DEFINITIONS,
    required: ['namespace'],
    links: [
      { rel: 'self', href: '{self}' },
      { rel: 'describedby', href: '{schema}' },
    ],
  };
}

export function namespacesSchema() {
  return {
    ...collection('namespace', namespaceSchema()),
    definitions: NAMESPACE_DEFINITIONS,
  };
}

export function resourceTypeSchema() {
  return {
    name: 'resource_type_association',
    properties: {
      name: {
        type: 'string',
        maxLength: 80,
        description:
          'Resource type names should be aligned with Heat resource types whenever possible: https://docs.openstack.org/heat/latest/template_guide/openstack.html',
      },
      prefix: { type: 'string', maxLength: 80, description: 'Specifies the prefix to use for the given resource type.' },
      properties_target: {
        type: 'string',
        maxLength: 80,
        description: 'Some resource types allow more than one key / value pair per instance.',
      },
      created_at: { type: 'string', readOnly: true, format: 'date-time' },
      updated_at: { type: 'string', readOnly: true, format: 'date-time' },
    },
    required: ['name'],
    additionalProperties: false,
  };
}

/** The documents by their path under `/v2/schemas/`. */
export const GLANCE_SCHEMAS: Readonly<Record<string, () => unknown>> = {
  image: imageSchema,
  images: imagesSchema,
  member: memberSchema,
  members: membersSchema,
  'metadefs/namespace': namespaceSchema,
  'metadefs/namespaces': namespacesSchema,
  'metadefs/resource_type': resourceTypeSchema,
  'metadefs/resource_types': () => ({
    ...collection('resource_type_association', resourceTypeSchema()),
    name: 'resource_type_associations',
  }),
};
